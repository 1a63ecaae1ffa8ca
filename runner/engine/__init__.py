"""Runs plans: dependency order, concurrency, polling, collect, teardown. Never prints."""
