"""Who is on the other end of a request: the client address limits and logs are keyed by.

``X-Forwarded-For`` is a header anyone can send, so it is believed only when the connection comes
from a configured reverse proxy (``CERTSVC_TRUSTED_PROXIES``), and then only the entries that
proxy (and any trusted proxy before it) appended: the rightmost address that is not a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` → networks; a bad entry is a configuration error."""
    nets = []
    for part in spec.replace(";", ",").split(","):
        part = part.strip()
        if part:
            nets.append(ipaddress.ip_network(part, strict=False))
    return tuple(nets)


def _trusted(addr: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def resolve(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The client address given the TCP peer, its ``X-Forwarded-For`` and the trusted proxies."""
    peer = peer or "unknown"
    if not forwarded_for or not proxies or not _trusted(peer, proxies):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        if not hop:
            continue
        if not _trusted(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the proxy's client: do not key anything by it
    return peer


def client_address(conn: HTTPConnection, trusted_proxies: str) -> str:
    """The address of whoever sent this request, as far as it can be trusted."""
    peer = conn.client.host if conn.client else None
    return resolve(peer, conn.headers.get("x-forwarded-for"), parse_networks(trusted_proxies))
