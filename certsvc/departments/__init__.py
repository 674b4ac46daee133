"""Departments: registration, API keys, licence types."""
