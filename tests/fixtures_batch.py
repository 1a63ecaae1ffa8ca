"""Batch and Blob fixtures: real SDK clients aimed at the local target."""
