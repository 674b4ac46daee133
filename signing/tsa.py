"""The service's own RFC 3161 time-stamping authority.

:class:`LocalTsa` makes time-stamp tokens (CMS ``SignedData`` over a ``TSTInfo``, ES256, with the
ESS signing-certificate-v2 attribute) with a key that stays in the key backend: it is given only
the TSA certificate and a function that signs bytes. It is a pyHanko
:class:`~pyhanko.sign.timestamps.TimeStamper`, so pyHanko's own signers can use it in-process, and
:meth:`LocalTsa.respond` answers a DER ``TimeStampReq`` for ``POST /tsa``.

The parts of a token that are the same for every request (certificates, signer identifier, the
signing-certificate attribute) are DER-encoded once; only the ``TSTInfo`` and the signature change.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp, x509
from pyhanko.sign.general import as_signing_certificate_v2
from pyhanko.sign.timestamps import TimeStamper

from signing.der import tlv as _tlv

__all__ = ["ARCHIVE_POLICY", "POLICY", "LocalTsa", "TsaRequestError"]

POLICY = "2.25.238514034867931370526713417590283746271"
"""The TSA policy OID (a UUID OID, X.667): time from the service's clock, ±1 s accuracy."""
ARCHIVE_POLICY = "2.25.238514034867931370526713417590283746272"
"""The policy of the document time-stamps the service adds to its own stored licences (B-LTA).
``POST /tsa`` never grants it, so a verifier can tell the service's archive time-stamps from the
tokens anyone may ask the public TSA for."""

_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}
_MAX_QUERY = 4096


class TsaRequestError(ValueError):
    """A time-stamp query that is not one (not DER, wrong structure, unsupported hash)."""


class LocalTsa(TimeStamper):
    """A time-stamping authority whose key signs through ``sign_raw`` (ECDSA-SHA256, DER)."""

    def __init__(
        self,
        cert: x509.Certificate,
        sign_raw: Callable[[bytes], bytes],
        *,
        chain: Sequence[x509.Certificate] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        policy: str = POLICY,
    ) -> None:
        super().__init__(include_nonce=False)
        self.cert = cert
        self.policy = policy
        self._sign_raw = sign_raw
        self._clock = clock
        certs = {cert.dump(): None}
        for c in chain:
            certs.setdefault(c.dump(), None)
        digest_alg = algos.DigestAlgorithm({"algorithm": "sha256"})
        sid = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                    {"issuer": cert.issuer, "serial_number": cert.serial_number}
                )
            }
        )
        self._digest_alg = digest_alg.dump()
        self._signer_head = b"\x02\x01\x01" + sid.dump() + self._digest_alg
        self._sig_alg = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump()
        self._cert_set = _tlv(0xA0, b"".join(certs))
        self._content_type_attr = cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}).dump()
        self._signing_cert_attr = cms.CMSAttribute(
            {"type": "signing_certificate_v2", "values": [as_signing_certificate_v2(cert)]}
        ).dump()
        self._tsa_name = x509.GeneralName({"directory_name": cert.subject})
        self._bound: int | None = None

    def _tst_info(self, imprint: tsp.MessageImprint, nonce: int | None) -> bytes:
        info: dict[str, object] = {
            "version": "v1",
            "policy": self.policy,
            "message_imprint": imprint,
            "serial_number": int.from_bytes(secrets.token_bytes(16), "big") >> 1,
            "gen_time": core.GeneralizedTime(self._clock().astimezone(UTC).replace(microsecond=0)),
            "accuracy": {"seconds": 1},
            "tsa": self._tsa_name,
        }
        if nonce is not None:
            info["nonce"] = nonce
        return tsp.TSTInfo(info).dump()

    def _token(self, tst_info: bytes, with_certs: bool = True) -> bytes:
        digest = hashlib.sha256(tst_info).digest()
        message_digest = _tlv(0x30, b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x09\x04" + _tlv(0x31, _tlv(0x04, digest)))
        # DER SET OF: members sorted by their encodings
        attrs = b"".join(sorted([self._content_type_attr, self._signing_cert_attr, message_digest]))
        signature = self._sign_raw(_tlv(0x31, attrs))
        signer_info = _tlv(0x30, self._signer_head + _tlv(0xA0, attrs) + self._sig_alg + _tlv(0x04, signature))
        encap = _tlv(
            0x30,
            b"\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x04"  # id-ct-TSTInfo
            + _tlv(0xA0, _tlv(0x04, tst_info)),
        )
        signed_data = _tlv(
            0x30,
            b"\x02\x01\x03"
            + _tlv(0x31, self._digest_alg)
            + encap
            + (self._cert_set if with_certs else b"")
            + _tlv(0x31, signer_info),
        )
        return _tlv(0x30, b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02" + _tlv(0xA0, signed_data))

    def token(self, digest: bytes, md: str = "sha256", nonce: int | None = None) -> bytes:
        """DER ``ContentInfo`` of a time-stamp token over ``digest`` (a ``md`` hash), now."""
        if _DIGEST_SIZES.get(md) != len(digest):
            raise TsaRequestError(f"unsupported hash {md} or wrong digest length")
        imprint = tsp.MessageImprint({"hash_algorithm": {"algorithm": md}, "hashed_message": digest})
        return self._token(self._tst_info(imprint, nonce))

    def archival(self) -> LocalTsa:
        """The same authority granting :data:`ARCHIVE_POLICY`, for the service's own document
        time-stamps; never the one ``POST /tsa`` answers with."""
        twin = copy.copy(self)
        twin.policy = ARCHIVE_POLICY
        return twin

    def token_size_bound(self) -> int:
        """An upper bound of a SHA-256 token's DER size (for reserving room in a PDF); measured once."""
        if self._bound is None:
            self._bound = len(self.token(b"\x00" * 32)) + 16  # serial and signature lengths vary a little
        return self._bound

    def respond(self, query: bytes) -> bytes:
        """DER ``TimeStampResp`` for a DER ``TimeStampReq`` (RFC 3161 §2.4); a rejection for an
        unsupported hash or policy, :class:`TsaRequestError` for anything that is not a query."""
        if len(query) > _MAX_QUERY:
            raise TsaRequestError("the query is too long")
        try:
            req = tsp.TimeStampReq.load(query, strict=True)
            version = req["version"].native
            imprint = req["message_imprint"]
            md = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            policy = req["req_policy"].native
            nonce = req["nonce"].native
            cert_req = bool(req["cert_req"].native)
        except Exception as e:  # asn1crypto raises many kinds on junk
            raise TsaRequestError(f"not a time-stamp query: {type(e).__name__}") from e
        if version != "v1" or not isinstance(digest, bytes):
            raise TsaRequestError("not a version 1 time-stamp query")
        if _DIGEST_SIZES.get(md) != len(digest):
            return _rejection("bad_alg", f"unsupported hash algorithm {md}")
        if policy is not None and policy != self.policy:
            return _rejection("unaccepted_policy", "unknown policy")
        token = self._token(self._tst_info(imprint, nonce), with_certs=cert_req)  # RFC 3161 §2.4.1
        granted = tsp.PKIStatusInfo({"status": "granted"}).dump()
        return _tlv(0x30, granted + token)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """pyHanko's hook: answer in-process, no HTTP round trip."""
        return tsp.TimeStampResp.load(self.respond(req.dump()))


def _rejection(fail_info: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo({"status": "rejection", "status_string": [text], "fail_info": {fail_info}})
    return _tlv(0x30, status.dump())  # TimeStampResp without a token
