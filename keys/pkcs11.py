"""Keys in a PKCS#11 token (an HSM, or SoftHSM2 in tests): generated inside, never leaving it.

One session per process, opened lazily and logged in once, reused for every operation under a
lock (a PKCS#11 session runs one operation at a time). After ``fork`` the child re-initialises
the library and opens its own session. Signing is hash-then-raw-ECDSA (``CKM_ECDSA`` over a
SHA-256 digest computed here), because SoftHSM2 and several HSMs lack ``CKM_ECDSA_SHA256``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pkcs11
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.util.ec import encode_ecdsa_signature, encode_named_curve_parameters
from pyhanko.sign.pkcs11 import PKCS11Signer

from keys.backend import KeyBackendError

log = logging.getLogger(__name__)

_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_CURVE = "secp256r1"

# Errors after which the session is dropped and the operation retried once on a new one.
_STALE = (
    pkcs11.exceptions.SessionHandleInvalid,
    pkcs11.exceptions.SessionClosed,
    pkcs11.exceptions.DeviceRemoved,
    pkcs11.exceptions.TokenNotPresent,
    pkcs11.exceptions.UserNotLoggedIn,
    pkcs11.exceptions.KeyHandleInvalid,
    pkcs11.exceptions.ObjectHandleInvalid,
)

T = TypeVar("T")

# python-pkcs11 loads each module once per process (a global); after fork the child must
# call C_Finalize/C_Initialize before using it. Remember which process initialised which module.
_lib_pid: dict[str, int] = {}
_lib_lock = threading.Lock()


def _load_lib(module: str) -> Any:
    with _lib_lock:
        lib = pkcs11.lib(module)
        pid = os.getpid()
        if _lib_pid.setdefault(module, pid) != pid:
            lib.reinitialize()
            _lib_pid[module] = pid
        return lib


def ec_point_to_public_key(ec_point: bytes) -> ec.EllipticCurvePublicKey:
    """Decode ``CKA_EC_POINT`` (a DER OCTET STRING around the X9.62 point) into a public key."""
    try:
        point = asn1_core.OctetString.load(ec_point).native
    except ValueError:
        point = ec_point  # some tokens return the raw point
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


class _TokenSession:
    """The one logged-in session of this process to one token, and the lock that serialises it.

    PKCS#11 login state belongs to the application (process), not to a session: a second
    ``C_Login`` fails with CKR_USER_ALREADY_LOGGED_IN and ``C_Logout`` on any session logs them
    all out. So every backend object in a process shares one of these per token.
    """

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        self.module = module
        self.token_label = token_label
        self.pin_digest = hashlib.sha256(pin.encode()).digest()
        self._pin = pin
        self.lock = threading.RLock()
        self.session: Any = None
        self.keys: dict[str, Any] = {}  # label -> private key handle in the current session
        self.opened = 0  # sessions opened (= logins) by this process

    def open(self) -> Any:
        """The session; opened and logged in on first use. Call with the lock held."""
        if self.session is None:
            try:
                token = _load_lib(self.module).get_token(token_label=self.token_label)
                self.session = token.open(rw=True, user_pin=self._pin)
            except pkcs11.exceptions.NoSuchToken as e:
                raise KeyBackendError(f"no PKCS#11 token labelled {self.token_label!r}") from e
            except (pkcs11.exceptions.PinIncorrect, pkcs11.exceptions.PinLocked) as e:
                raise KeyBackendError(f"PIN rejected by PKCS#11 token {self.token_label!r}: {e!r}") from e
            except pkcs11.PKCS11Error as e:
                raise KeyBackendError(f"cannot open PKCS#11 token {self.token_label!r}: {e!r}") from e
            self.keys = {}
            self.opened += 1
        return self.session

    def drop(self) -> None:
        """Close (and log out) the session; the next operation opens a new one."""
        session, self.session, self.keys = self.session, None, {}
        if session is not None:
            try:
                session.close()
            except pkcs11.PKCS11Error:
                pass  # already dead


_shared: dict[tuple[str, str], _TokenSession] = {}
_shared_lock = threading.Lock()


def _reset_after_fork() -> None:
    """In a forked child nothing of the parent's sessions may be used (or closed)."""
    global _shared_lock, _lib_lock
    _shared.clear()
    _shared_lock = threading.Lock()
    _lib_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _shared_session(module: str, token_label: str, pin: str) -> _TokenSession:
    with _shared_lock:
        ts = _shared.get((module, token_label))
        if ts is None:
            ts = _shared[(module, token_label)] = _TokenSession(module, token_label, pin)
        elif ts.pin_digest != hashlib.sha256(pin.encode()).digest():
            raise KeyBackendError(
                f"PKCS#11 token {token_label!r} is already logged in by this process with another PIN"
            )
        return ts


class Pkcs11KeyBackend:
    """ECDSA P-256 keys in a PKCS#11 token, addressed by ``CKA_LABEL``."""

    name = "pkcs11"

    def __init__(self, module: str, token_label: str, pin: str | None) -> None:
        if not module:
            raise KeyBackendError("no PKCS#11 module configured (CERTSVC_PKCS11_MODULE)")
        if not token_label:
            raise KeyBackendError("no PKCS#11 token label configured (CERTSVC_PKCS11_TOKEN_LABEL)")
        if not pin:
            raise KeyBackendError("no PKCS#11 user PIN configured (CERTSVC_PKCS11_PIN)")
        self.module = module
        self.token_label = token_label
        self._pin = pin

    def __repr__(self) -> str:  # never show the PIN
        return f"Pkcs11KeyBackend(module={self.module!r}, token_label={self.token_label!r})"

    # --- the session ------------------------------------------------------------------

    def _shared(self) -> _TokenSession:
        return _shared_session(self.module, self.token_label, self._pin)

    @property
    def sessions_opened(self) -> int:
        """How many sessions (each with one login) this process has opened to the token."""
        return self._shared().opened

    def _run(self, op: Callable[[_TokenSession, Any], T]) -> T:
        """Run ``op(shared, session)`` under the lock; on a lost session reopen once and retry."""
        ts = self._shared()
        with ts.lock:
            try:
                try:
                    return op(ts, ts.open())
                except _STALE as e:
                    log.warning("PKCS#11 session to %r lost (%r); reopening", self.token_label, e)
                    ts.drop()
                return op(ts, ts.open())
            except pkcs11.PKCS11Error as e:
                raise KeyBackendError(f"PKCS#11 operation failed: {e!r}") from e

    def session(self) -> Any:
        """This process's open session, for constructing pyHanko's signer. Operations on it go
        through this backend (and its lock), never directly."""
        return self._run(lambda _ts, s: s)

    def close(self) -> None:
        """Close the process's session to the token (it reopens on next use)."""
        ts = self._shared()
        with ts.lock:
            ts.drop()

    # --- objects ----------------------------------------------------------------------

    @staticmethod
    def _check_label(label: str) -> str:
        if not _LABEL.match(label):
            raise KeyBackendError(f"invalid key label {label!r}")
        return label

    @staticmethod
    def _find(session: Any, label: str, cls: ObjectClass) -> list[Any]:
        return list(session.get_objects({Attribute.CLASS: cls, Attribute.LABEL: label}))

    def _private(self, ts: _TokenSession, session: Any, label: str) -> Any:
        key = ts.keys.get(label)
        if key is None:
            found = self._find(session, label, ObjectClass.PRIVATE_KEY)
            if not found:
                raise KeyBackendError(f"no private key {label!r} in token {self.token_label!r}")
            if len(found) > 1:
                raise KeyBackendError(f"{len(found)} private keys labelled {label!r} in the token")
            key = ts.keys[label] = found[0]
        return key

    def _public(self, session: Any, label: str) -> ec.EllipticCurvePublicKey:
        found = self._find(session, label, ObjectClass.PUBLIC_KEY)
        if len(found) != 1:
            raise KeyBackendError(f"{len(found) or 'no'} public keys labelled {label!r} in the token")
        return ec_point_to_public_key(found[0][Attribute.EC_POINT])

    # --- KeyBackend -------------------------------------------------------------------

    def generate(self, label: str) -> ec.EllipticCurvePublicKey:
        self._check_label(label)

        def op(ts: _TokenSession, session: Any) -> ec.EllipticCurvePublicKey:
            old = self._find(session, label, ObjectClass.PRIVATE_KEY) + self._find(
                session, label, ObjectClass.PUBLIC_KEY
            )
            if old:
                # Same semantics as the file backend, which overwrites: a label is only
                # regenerated when no certificate refers to it (e.g. after a crash).
                log.warning("replacing %d existing token objects labelled %r", len(old), label)
                for obj in old:
                    obj.destroy()
                ts.keys.pop(label, None)
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(_CURVE)}, local=True
            )
            tmp_id = os.urandom(20)
            pub, priv = params.generate_keypair(
                id=tmp_id,
                label=label,
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                mechanism=Mechanism.EC_KEY_PAIR_GEN,
                public_template={Attribute.PRIVATE: False, Attribute.MODIFIABLE: True},
                private_template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.SIGN: True,
                    Attribute.DECRYPT: False,
                    Attribute.UNWRAP: False,
                    Attribute.DERIVE: False,
                    Attribute.MODIFIABLE: True,
                },
            )
            public = ec_point_to_public_key(pub[Attribute.EC_POINT])
            # CKA_ID = SHA-1 of the public point, the usual convention (matches the
            # certificate's subject key identifier).
            point = public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
            key_id = hashlib.sha1(point, usedforsecurity=False).digest()
            pub[Attribute.ID] = key_id
            priv[Attribute.ID] = key_id
            ts.keys[label] = priv
            return public

        return self._run(op)

    def has(self, label: str) -> bool:
        self._check_label(label)
        return self._run(lambda _ts, s: bool(self._find(s, label, ObjectClass.PRIVATE_KEY)))

    def public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        self._check_label(label)
        return self._run(lambda _ts, s: self._public(s, label))

    def _sign_prehashed(self, label: str, digest: bytes) -> bytes:
        """Raw ``CKM_ECDSA`` over a digest; returns r||s as the token gives it."""
        return self._run(lambda ts, s: self._private(ts, s, label).sign(digest, mechanism=Mechanism.ECDSA))

    def sign(self, label: str, data: bytes) -> bytes:
        self._check_label(label)
        digest = hashlib.sha256(data).digest()
        return encode_ecdsa_signature(self._sign_prehashed(label, digest))

    def pdf_signer(self, label: str, cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]) -> PKCS11Signer:
        self._check_label(label)
        if not self.has(label):
            raise KeyBackendError(f"no private key {label!r} in token {self.token_label!r}")
        return _TokenSigner(self, label, cert, chain)

    def check(self) -> None:
        def op(_ts: _TokenSession, session: Any) -> None:
            # A cheap round trip that needs a live, logged-in session.
            list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: "-"}))

        self._run(op)


class _LockedKey:
    """Stands in for pyHanko's key handle: every ``sign`` goes through the backend's session
    and lock, so signers stay valid across reconnects and forks and never race each other."""

    def __init__(self, backend: Pkcs11KeyBackend, label: str) -> None:
        self.backend = backend
        self.label = label

    def sign(self, data: bytes, mechanism: Mechanism | None = None, **kwargs: Any) -> bytes:
        if mechanism is not None and mechanism != Mechanism.ECDSA:
            raise KeyBackendError(f"unexpected PKCS#11 mechanism {mechanism!r} (expected raw ECDSA)")
        if kwargs.get("mechanism_param") is not None:
            raise KeyBackendError("raw ECDSA takes no mechanism parameter")
        return self.backend._sign_prehashed(self.label, data)


class _TokenSigner(PKCS11Signer):
    """pyHanko's PKCS#11 signer with the raw ECDSA mechanism (pyHanko hashes, the token signs),
    whose key handle is resolved through the backend's shared session at every signature."""

    def __init__(
        self,
        backend: Pkcs11KeyBackend,
        label: str,
        cert: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
    ) -> None:
        super().__init__(
            backend.session(),
            key_label=label,
            signing_cert=cert,
            ca_chain=chain,
            use_raw_mechanism=True,
            other_certs_to_pull=(),  # the certificates come from the database, not the token
        )
        self._backend = backend

    def _pull_signing_key_handle(self) -> _LockedKey:
        # pyHanko 0.38 looks the key up once by CKA_LABEL (+CKA_CLASS, CKA_SIGN) on the session
        # it was given and keeps the handle; ours survives session reopening.
        return _LockedKey(self._backend, self.key_label or "")
