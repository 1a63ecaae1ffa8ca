"""Rich rendering of plans, progress and results for terminals."""
