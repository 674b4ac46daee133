"""DER tag-length-value, for the CMS and time-stamp templates assembled byte by byte on the hot path
(asn1crypto builds them once; per document only lengths and digests change)."""

__all__ = ["tlv"]


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element: ``tag``, the definite length of ``content``, then ``content``."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(body)]) + body + content
