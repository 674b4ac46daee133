"""Schemathesis hooks for the fuzz run (``SCHEMATHESIS_HOOKS``): the TSA's request body
(``application/timestamp-query``) is raw bytes, sent as schemathesis sends octet streams, so that
``POST /tsa`` is fuzzed with junk like every other operation."""

import schemathesis

schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")
