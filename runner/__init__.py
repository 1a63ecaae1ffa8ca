"""runner: declarative workflows for Azure Container Instances and Azure Batch."""

__version__ = "0.1.0"
