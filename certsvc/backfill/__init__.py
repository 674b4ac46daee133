"""Back-fill jobs (``POST /licence-jobs``, ``certsvc backfill``): many licences issued in the background."""
