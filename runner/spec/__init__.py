"""Spec language: pydantic models, YAML + Jinja loading with source positions, schemas."""
