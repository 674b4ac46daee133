"""Verification as the service answers it: PDF and QR verdicts, the trust list and the status list."""
