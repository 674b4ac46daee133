"""What relying parties fetch to check the service's certificates with their own software: the
root's CRL (``/crl/root.crl``, named in every certificate's CRL distribution points) and the root
certificate (``/ca/root.crt``, named in every certificate's AIA caIssuers), and the RFC 3161
time-stamping authority (``POST /tsa``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization

from certsvc.context import Context
from certsvc.core import clock
from certsvc.db.session import session_scope
from certsvc.errors import BadRequest, NotFound
from certsvc.keyring import ROOT_NAME
from signing.tsa import TsaRequestError

CRL_MAX_AGE = 300
"""Seconds a client may cache the CRL: a revocation is published at once, so keep it short."""


@dataclass(frozen=True)
class Published:
    """A DER object to serve, its ETag and how long it may be cached."""

    der: bytes
    etag: str
    max_age: int
    expires: datetime | None = None


def current_crl(ctx: Context, name: str) -> Published:
    """The DER CRL of the CA called ``name`` (only ``root`` issues certificates); re-issued first
    if its nextUpdate is near. :class:`NotFound` for other names."""
    if name != ROOT_NAME:
        raise NotFound(f"no CA named {name!r}")
    with session_scope(ctx.engine) as s:
        row = ctx.keyring.crl(s)
    next_update = row.next_update if row.next_update.tzinfo else row.next_update.replace(tzinfo=UTC)
    left = int((next_update - clock.now()).total_seconds())
    return Published(
        row.der, f'"{hashlib.sha256(row.der).hexdigest()[:32]}"', max(0, min(CRL_MAX_AGE, left)), next_update
    )


def ca_certificate(ctx: Context, name: str) -> Published:
    """The DER certificate of the CA called ``name``. :class:`NotFound` for other names."""
    if name != ROOT_NAME:
        raise NotFound(f"no CA named {name!r}")
    der = ctx.keyring.root().cert.public_bytes(serialization.Encoding.DER)
    return Published(der, f'"{hashlib.sha256(der).hexdigest()[:32]}"', 86400)


TSA_QUERY_MAX = 4096
"""Bytes of a time-stamp query ``POST /tsa`` reads at most (a SHA-512 query is about 100)."""


def time_stamp(ctx: Context, query: bytes) -> bytes:
    """The DER ``TimeStampResp`` (RFC 3161) of the service's TSA for a DER ``TimeStampReq``;
    :class:`BadRequest` for anything that is not one."""
    try:
        return ctx.keyring.timestamper().respond(query)
    except TsaRequestError as e:
        raise BadRequest(str(e)) from e
