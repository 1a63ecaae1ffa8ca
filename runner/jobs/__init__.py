"""Code that runs on Batch nodes. Standard library only."""
