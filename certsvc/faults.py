"""Fault injection for crash tests: ``CERTSVC_FAULT=<point>`` kills the process (SIGKILL) there.

Points are placed where a crash is hardest to recover from; unset, a point costs one dict lookup.
"""

from __future__ import annotations

import os
import signal


def point(name: str) -> None:
    """Die here if ``CERTSVC_FAULT`` names this point: the crash tests need a kill at exact places."""
    if os.environ.get("CERTSVC_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
