"""The only place that imports Azure SDKs: live-state readers, actuators, targets."""
