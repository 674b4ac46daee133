"""Fault injection for crash and race tests: ``CERTSVC_FAULT=<point>`` kills the process (SIGKILL)
there; ``CERTSVC_FAULT_DELAY=<point>:<seconds>`` pauses there, widening a race window so that a
test can make two server processes overlap exactly where a lost update would happen.

Points are placed where a crash is hardest to recover from or a race most likely; unset, a point
costs two dict lookups.
"""

from __future__ import annotations

import os
import signal
import time


def point(name: str) -> None:
    """Die here if ``CERTSVC_FAULT`` names this point: the crash tests need a kill at exact places."""
    if os.environ.get("CERTSVC_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    delay = os.environ.get("CERTSVC_FAULT_DELAY")
    if delay and delay.rpartition(":")[0] == name:
        time.sleep(float(delay.rpartition(":")[2]))
