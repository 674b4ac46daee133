"""Licences: issuance (single and batch on one path), lifecycle, status, public views and look-ups."""
