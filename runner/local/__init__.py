"""The local target: an emulator of ARM, ACI and Batch, Azurite, container and node runtimes."""
