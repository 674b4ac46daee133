"""The PKCS#11 key backend against a fresh SoftHSM2 token: keys made and used inside the token."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pkcs11 import Attribute, ObjectClass
from pkcs11.exceptions import AttributeSensitive

from keys.backend import KeyBackend, KeyBackendError
from keys.ca import Subject, issue_leaf, make_root, to_asn1
from keys.pkcs11 import Pkcs11KeyBackend
from tests.support.pkcs11 import Token

pytestmark = pytest.mark.pkcs11

# python-pkcs11 0.9 finalises a failed search again in ``__del__`` and reports the (expected)
# SessionHandleInvalid as unraisable when a session dies under it; the backend reopens.
IGNORE_DEAD_SESSION_SEARCH = pytest.mark.filterwarnings(
    "ignore:Exception ignored in.*OperationContext.__del__:pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(scope="module")
def token(new_token) -> Token:
    return new_token("unit")


@pytest.fixture(scope="module")
def backend(token: Token) -> Iterator[Pkcs11KeyBackend]:
    b = Pkcs11KeyBackend(module=token.module, token_label=token.label, pin=token.pin)
    yield b
    b.close()


@pytest.fixture
def fresh_backend(token: Token) -> Iterator[Pkcs11KeyBackend]:
    """Another backend on the same token: a process of its own, as far as sessions go."""
    b = Pkcs11KeyBackend(module=token.module, token_label=token.label, pin=token.pin)
    yield b
    b.close()


def _verify(public: ec.EllipticCurvePublicKey, sig: bytes, data: bytes) -> None:
    public.verify(sig, data, ec.ECDSA(hashes.SHA256()))


def _tiny_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.drawString(72, 760, "certsvc PKCS#11 test")
    c.showPage()
    c.save()
    return out.getvalue()


def test_is_a_key_backend(backend: Pkcs11KeyBackend) -> None:
    assert isinstance(backend, KeyBackend)
    assert backend.name == "pkcs11"
    assert "1234" not in repr(backend)
    backend.check()


def test_generate_sign_verify(backend: Pkcs11KeyBackend) -> None:
    public = backend.generate("unit-sign")
    assert isinstance(public.curve, ec.SECP256R1)
    assert backend.has("unit-sign")
    assert not backend.has("unit-nothing")
    assert backend.public_key("unit-sign").public_numbers() == public.public_numbers()
    for data in (b"", b"hello", os.urandom(5000)):
        _verify(public, backend.sign("unit-sign", data), data)
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidSignature
        _verify(public, backend.sign("unit-sign", b"one"), b"two")


def test_private_key_never_leaves_the_token(backend: Pkcs11KeyBackend) -> None:
    public = backend.generate("unit-secret")
    session = backend.session()
    (key,) = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: "unit-secret"})
    assert key[Attribute.TOKEN] is True
    assert key[Attribute.PRIVATE] is True
    assert key[Attribute.SENSITIVE] is True
    assert key[Attribute.EXTRACTABLE] is False
    assert key[Attribute.ALWAYS_SENSITIVE] is True
    assert key[Attribute.NEVER_EXTRACTABLE] is True
    assert key[Attribute.SIGN] is True
    with pytest.raises(AttributeSensitive):
        key[Attribute.VALUE]
    # CKA_ID is the SHA-1 of the public point, shared by both halves of the pair.
    (pub,) = session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.LABEL: "unit-secret"})
    assert key[Attribute.ID] == pub[Attribute.ID]
    point = public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    assert key[Attribute.ID] == hashlib.sha1(point, usedforsecurity=False).digest()


def test_missing_key_and_bad_label_are_backend_errors(backend: Pkcs11KeyBackend) -> None:
    with pytest.raises(KeyBackendError, match="no private key"):
        backend.sign("unit-missing", b"x")
    with pytest.raises(KeyBackendError, match="public keys"):
        backend.public_key("unit-missing")
    with pytest.raises(KeyBackendError, match="invalid key label"):
        backend.generate("bad label/..")


def test_wrong_pin_or_token_is_a_clear_error(token: Token) -> None:
    # Login state is per process, and this process is logged in already: try in a fresh one.
    code = (
        "import sys\n"
        "from keys.backend import KeyBackendError\n"
        "from keys.pkcs11 import Pkcs11KeyBackend\n"
        "try:\n"
        "    Pkcs11KeyBackend(sys.argv[1], sys.argv[2], sys.argv[3]).check()\n"
        "except KeyBackendError as e:\n"
        "    print(e)\n"
    )
    root = Path(__file__).resolve().parents[2]

    def attempt(label: str, pin: str) -> str:
        r = subprocess.run(
            [sys.executable, "-c", code, token.module, label, pin], capture_output=True, text=True, cwd=root
        )
        assert r.returncode == 0, r.stderr
        return r.stdout

    assert "PIN rejected" in attempt(token.label, "0000")
    assert "no PKCS#11 token" in attempt("no-such-token", token.pin)
    assert attempt(token.label, token.pin) == ""


def test_another_pin_in_the_same_process_is_refused(backend: Pkcs11KeyBackend, token: Token) -> None:
    backend.check()
    with pytest.raises(KeyBackendError, match="another PIN"):
        Pkcs11KeyBackend(token.module, token.label, "9999").check()


def test_regenerating_a_label_replaces_the_key(backend: Pkcs11KeyBackend) -> None:
    first = backend.generate("unit-again")
    second = backend.generate("unit-again")
    assert first.public_numbers() != second.public_numbers()
    _verify(second, backend.sign("unit-again", b"x"), b"x")


def test_nothing_is_opened_before_first_use(token: Token) -> None:
    b = Pkcs11KeyBackend(token.module, "no-such-token", token.pin)  # lazy: no error yet
    assert b.sessions_opened == 0
    with pytest.raises(KeyBackendError, match="no PKCS#11 token"):
        b.sign("x", b"x")


def test_one_session_reused_for_many_signatures(fresh_backend: Pkcs11KeyBackend, token: Token) -> None:
    b = fresh_backend
    b.close()
    before = b.sessions_opened
    public = b.generate("reuse-1")
    session = b.session()
    for i in range(20):
        data = f"message {i}".encode()
        _verify(public, b.sign("reuse-1", data), data)
        assert b.session() is session
    assert b.sessions_opened == before + 1  # one session, one login, for all 20 signatures
    # Another backend object for the same token (a second app in this process) shares it.
    other = Pkcs11KeyBackend(token.module, token.label, token.pin)
    _verify(public, other.sign("reuse-1", b"x"), b"x")
    assert other.session() is session
    assert b.sessions_opened == before + 1


def test_concurrent_signatures_share_the_session_safely(backend: Pkcs11KeyBackend) -> None:
    public = backend.generate("unit-threads")
    opened = backend.sessions_opened
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                data = f"{n}/{i}".encode()
                _verify(public, backend.sign("unit-threads", data), data)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert backend.sessions_opened == opened


@IGNORE_DEAD_SESSION_SEARCH
def test_lost_session_is_reopened(fresh_backend: Pkcs11KeyBackend) -> None:
    b = fresh_backend
    public = b.generate("lost-1")
    before = b.sessions_opened
    b.session().close()  # as if the HSM dropped the session
    _verify(public, b.sign("lost-1", b"after"), b"after")
    assert b.sessions_opened == before + 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_opens_its_own_session(fresh_backend: Pkcs11KeyBackend) -> None:
    b = fresh_backend
    public = b.generate("fork-1")
    parent_session = b.session()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        ok = b"0"
        try:
            sig = b.sign("fork-1", b"child")
            public.verify(sig, b"child", ec.ECDSA(hashes.SHA256()))
            ok = b"1" if b.session() is not parent_session and b.sessions_opened == 1 else b"2"
        finally:
            os.write(w, ok)
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    os.close(r)
    _verify(public, b.sign("fork-1", b"parent"), b"parent")
    assert b.session() is parent_session


def test_root_in_token_issues_leaf_and_pdf_signature_validates(backend: Pkcs11KeyBackend) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.pkcs11 import PKCS11Signer
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = make_root(backend, "unit-root", Subject("Test Root CA", "certsvc"))
    dept = Subject("深圳市卫生健康委员会", "深圳市卫生健康委员会")
    leaf = issue_leaf(backend, "unit-root", root, "unit-seal", dept)
    assert leaf.public_key().public_numbers() == backend.public_key("unit-seal").public_numbers()

    signer = backend.pdf_signer("unit-seal", to_asn1(leaf), [to_asn1(leaf), to_asn1(root)])
    assert isinstance(signer, PKCS11Signer)
    vc = ValidationContext(trust_roots=[to_asn1(root)], allow_fetching=False)
    for n in range(3):  # the cached signer is reused, as the keyring does
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(_tiny_pdf())),
            signers.PdfSignatureMetadata(field_name="Seal", subfilter=SigSeedSubFilter.PADES),
            signer=signer,
        )
        sig = PdfFileReader(out).embedded_signatures[0]
        status = validate_pdf_signature(sig, vc)
        assert status.intact and status.valid and status.trusted, (n, status.pretty_print_details())
        assert status.bottom_line
        assert status.signing_cert.subject.native["common_name"] == "深圳市卫生健康委员会"


def test_pdf_signer_for_missing_key_fails_early(backend: Pkcs11KeyBackend) -> None:
    root = make_root(backend, "unit-root-2", Subject("Test Root CA 2", "certsvc"))
    with pytest.raises(KeyBackendError):
        backend.pdf_signer("unit-none", to_asn1(root), [to_asn1(root)])
