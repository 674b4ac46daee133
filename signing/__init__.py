"""Turning licence records into signed PDFs: CJK font, seal image, QR code, layout, PAdES signature.

This package never imports the web layer (``certsvc``).
"""
