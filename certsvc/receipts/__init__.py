"""Acceptance receipts (受理回执), sealed by the department like licences."""
