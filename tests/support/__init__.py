"""Helpers the tests import: data builders, service set-up, PDF checks, tampering, live servers."""
