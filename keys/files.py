"""Keys in files: PKCS#8 encrypted under the service passphrase, loaded once per process."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from keys.backend import KeyBackendError

_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class FileKeyBackend:
    """Encrypted PKCS#8 files under ``keys_dir``; decrypted keys are cached in memory."""

    name = "file"

    def __init__(self, keys_dir: Path, passphrase: bytes) -> None:
        self.keys_dir = Path(keys_dir)
        self._passphrase = passphrase
        self._cache: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._lock = threading.Lock()

    def _path(self, label: str) -> Path:
        if not _LABEL.match(label):
            raise KeyBackendError(f"invalid key label {label!r}")
        return self.keys_dir / f"{label}.p8.pem"

    def generate(self, label: str) -> ec.EllipticCurvePublicKey:
        path = self._path(label)
        self.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        with self._lock:
            self._cache[label] = key
        return key.public_key()

    def has(self, label: str) -> bool:
        return self._path(label).exists()

    def _private(self, label: str) -> ec.EllipticCurvePrivateKey:
        with self._lock:
            key = self._cache.get(label)
        if key is not None:
            return key
        path = self._path(label)
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), self._passphrase)
        except FileNotFoundError as e:
            raise KeyBackendError(f"no key {label!r} in {self.keys_dir}") from e
        except ValueError as e:
            raise KeyBackendError(f"cannot decrypt key {label!r}: wrong passphrase?") from e
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise KeyBackendError(f"key {label!r} is not an EC key")
        with self._lock:
            self._cache[label] = loaded
        return loaded

    def public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        return self._private(label).public_key()

    def sign(self, label: str, data: bytes) -> bytes:
        return self._private(label).sign(data, ec.ECDSA(hashes.SHA256()))

    def pdf_signer(self, label: str, cert: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]) -> SimpleSigner:
        der = self._private(label).private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return SimpleSigner(
            signing_cert=cert,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )

    def check(self) -> None:
        if not self.keys_dir.is_dir():
            raise KeyBackendError(f"key directory {self.keys_dir} is missing")
