"""Batch compute nodes as sandbox folders on this machine: layout, transfers, processes."""
