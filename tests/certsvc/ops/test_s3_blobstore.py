"""The S3 blob store against a local moto server: the store itself, then the whole app on it."""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from certsvc.blobstore import BlobError, S3BlobStore, open_blob_store

pytestmark = pytest.mark.s3

DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass(frozen=True)
class Moto:
    endpoint: str

    def client(self):  # a boto3 S3 client
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint)

    def new_bucket(self) -> str:
        name = f"certsvc-{secrets.token_hex(4)}"
        self.client().create_bucket(Bucket=name)
        return name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    server_mod = pytest.importorskip("moto.server", reason="moto[server] not installed")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)
        for name, value in DUMMY_AWS.items():
            mp.setenv(name, value)
        port = _free_port()
        server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield Moto(f"http://127.0.0.1:{port}")
        finally:
            server.stop()


@pytest.fixture
def store(moto: Moto) -> S3BlobStore:
    return S3BlobStore(moto.new_bucket(), "licences/pdf", endpoint_url=moto.endpoint)


def _pdf(n: int = 0) -> bytes:
    return b"%PDF-1.7\n" + f"blob {n} {secrets.token_hex(8)}\n".encode() + b"%%EOF\n"


def test_put_get_exists(store: S3BlobStore, moto: Moto) -> None:
    data = _pdf()
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.exists(key)
    assert store.get(key) == data
    obj = moto.client().head_object(Bucket=store.bucket, Key=f"licences/pdf/{key}.pdf")
    assert obj["ContentType"] == "application/pdf"
    assert obj["ContentLength"] == len(data)


def test_missing_blob(store: S3BlobStore) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()
    assert store.get(key) is None
    assert not store.exists(key)
    store.delete(key)  # deleting what is not there is fine


def test_put_is_idempotent(store: S3BlobStore) -> None:
    data = _pdf()
    assert store.put(data) == store.put(data)
    assert store.keys() == [hashlib.sha256(data).hexdigest()]
    assert store.get(store.put(data)) == data


def test_delete(store: S3BlobStore) -> None:
    keep, gone = store.put(_pdf(1)), store.put(_pdf(2))
    store.delete(gone)
    assert not store.exists(gone)
    assert store.get(gone) is None
    assert store.keys() == [keep]


def test_keys_lists_only_this_prefix(store: S3BlobStore, moto: Moto) -> None:
    mine = sorted(store.put(_pdf(i)) for i in range(3))
    other = S3BlobStore(store.bucket, "other", endpoint_url=moto.endpoint)
    theirs = other.put(_pdf(9))
    c = moto.client()
    c.put_object(Bucket=store.bucket, Key=f"licences/pdf/nested/{theirs}.pdf", Body=b"x")
    c.put_object(Bucket=store.bucket, Key="licences/pdf/README.txt", Body=b"x")
    assert store.keys() == mine
    assert other.keys() == [theirs]
    assert not store.exists(theirs)


def test_keys_paginates(moto: Moto) -> None:
    store = S3BlobStore(moto.new_bucket(), "p", endpoint_url=moto.endpoint, page_size=4)
    want = sorted(store.put(_pdf(i)) for i in range(11))  # three pages
    assert store.keys() == want


def test_no_prefix(moto: Moto) -> None:
    store = S3BlobStore(moto.new_bucket(), "", endpoint_url=moto.endpoint)
    key = store.put(_pdf())
    moto.client().head_object(Bucket=store.bucket, Key=f"{key}.pdf")
    assert store.keys() == [key]


def test_invalid_keys_are_refused(store: S3BlobStore) -> None:
    for bad in ("../etc/passwd", "A" * 64, "abc", ""):
        with pytest.raises(BlobError):
            store.get(bad)
        with pytest.raises(BlobError):
            store.exists(bad)


def test_check(store: S3BlobStore, moto: Moto) -> None:
    store.check()
    with pytest.raises(BlobError, match="not reachable"):
        S3BlobStore(f"missing-{secrets.token_hex(4)}", "", endpoint_url=moto.endpoint).check()


def test_errors_other_than_not_found_are_blob_errors(moto: Moto) -> None:
    missing = S3BlobStore(f"missing-{secrets.token_hex(4)}", "p", endpoint_url=moto.endpoint)
    with pytest.raises(BlobError):
        missing.put(_pdf())
    with pytest.raises(BlobError):
        missing.keys()


def test_open_blob_store_from_url(moto: Moto) -> None:
    bucket = moto.new_bucket()
    store = open_blob_store(f"s3://{bucket}/some/prefix/", endpoint_url=moto.endpoint)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == (bucket, "some/prefix")
    key = store.put(_pdf())
    moto.client().head_object(Bucket=bucket, Key=f"some/prefix/{key}.pdf")
    store.check()


def test_licence_pdfs_go_to_s3(moto: Moto, tmp_path: Path) -> None:
    from tests.support.standalone import standalone_service

    bucket = moto.new_bucket()
    env = {"CERTSVC_BLOB_URL": f"s3://{bucket}/certsvc", "CERTSVC_S3_ENDPOINT_URL": moto.endpoint}
    with standalone_service(tmp_path, **env) as svc:
        assert isinstance(svc.ctx.blobs, S3BlobStore)
        body = svc.issue()
        pdf = svc.pdf(body)
        assert hashlib.sha256(pdf).hexdigest() == body["sha256"]
        listed = moto.client().list_objects_v2(Bucket=bucket, Prefix="certsvc/")
        assert f"certsvc/{body['sha256']}.pdf" in [o["Key"] for o in listed.get("Contents", [])]
        stored = moto.client().get_object(Bucket=bucket, Key=f"certsvc/{body['sha256']}.pdf")
        assert stored["Body"].read() == pdf
        assert not any(p.is_file() for p in (tmp_path / "blobs").rglob("*"))  # nothing on local disk
        svc.assert_valid_seal(pdf)
        r = svc.client.get("/healthz")
        assert r.json()["checks"]["blob_store"] == "ok", r.text
    assert os.environ.get("CERTSVC_BLOB_URL") != env["CERTSVC_BLOB_URL"]  # environment restored
