"""The enterprise portal's web side: pages, the session cookie and CSRF checks, form parsing."""
