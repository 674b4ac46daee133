"""X.509 names in any Unicode character in real use: CJK Extension C and later, emoji.

Certificates name their holder in UTF8String, which can carry any character. Comparing two names
(RFC 5280 §7.1) prepares both with RFC 4518, whose Prohibit step refuses code points *unassigned*
(RFC 3454 table A.1). asn1crypto, which pyHanko uses to build and check certification paths, takes
that table from Python's :mod:`stringprep`, frozen at Unicode 3.2 (2002): every character added
since, such as 𪜀 (U+2A700, Unicode 5.2) or 😀 (Unicode 6.1), counts as unassigned, so a certificate
naming an enterprise or a department with one cannot be used at all (``ValueError: X.509 Name
objects may not contain unassigned code points``).

:func:`install` points asn1crypto at a :mod:`stringprep` whose table A.1 is read from the running
Python's Unicode database instead; every other table and step of the preparation is unchanged, and
code points unassigned today are still refused. :mod:`keys` installs it on import, so every process
that builds, signs with or checks our certificates (the service, its sealing and verification
workers, the CLI) compares such names.
"""

from __future__ import annotations

import stringprep
import types
import unicodedata

from asn1crypto import x509 as asn1_x509

__all__ = ["in_table_a1", "install"]


def in_table_a1(ch: str) -> bool:
    """RFC 3454 table A.1 (unassigned code points) for today's Unicode: as :func:`stringprep.in_table_a1`,
    with the running Python's :mod:`unicodedata` instead of its Unicode 3.2 snapshot."""
    if unicodedata.category(ch) != "Cn":
        return False
    c = ord(ch)
    if 0xFDD0 <= c < 0xFDF0:  # noncharacters: table C.4, not A.1
        return False
    return (c & 0xFFFF) not in (0xFFFE, 0xFFFF)


def _current_stringprep() -> types.ModuleType:
    shim = types.ModuleType("stringprep", "stringprep with table A.1 of the running Python's Unicode version")
    shim.__dict__.update({k: v for k, v in vars(stringprep).items() if not k.startswith("__")})
    shim.in_table_a1 = in_table_a1  # type: ignore[attr-defined]
    return shim


def install() -> None:
    """Make asn1crypto's name comparison accept characters assigned after Unicode 3.2 (idempotent)."""
    if getattr(asn1_x509.stringprep, "in_table_a1", None) is not in_table_a1:
        asn1_x509.stringprep = _current_stringprep()
