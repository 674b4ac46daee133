"""Blob storage for sealed PDFs, addressed by SHA-256: local files (default) or S3."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from certsvc.core.files import FILE_MODE, private_dir
from certsvc.errors import ServiceError

_KEY = re.compile(r"^[0-9a-f]{64}$")


class BlobError(ServiceError, RuntimeError):
    """The blob store could not store or fetch a document: the request fails rather than lose a PDF."""

    code = "blob_store"

    def diagnostics(self) -> str:
        return f"blob store error: {self}"


class BlobStore(Protocol):
    """Content-addressed storage of sealed PDFs, on local disk or S3: the database keeps only their hashes."""

    def put(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 hex, which is its key. Idempotent."""

    def get(self, key: str) -> bytes | None: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> list[str]: ...

    def check(self) -> None:
        """Raise :class:`BlobError` if the store cannot be reached (health check)."""


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise BlobError(f"invalid blob key {key!r}")
    return key


class FileBlobStore:
    """Files under ``root/ab/cd/<sha256>``, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        _check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        private_dir(path.parent)
        tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return key

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.glob("*/*/*") if _KEY.match(p.name))

    def check(self) -> None:
        private_dir(self.root)
        if not os.access(self.root, os.W_OK):
            raise BlobError(f"{self.root} is not writable")


class S3BlobStore:
    """Objects ``<prefix>/<sha256>.pdf`` in an S3-compatible bucket (boto3).

    Credentials and region come from the usual AWS environment/config chain; the endpoint is
    configurable for MinIO, Ceph or moto. Writes carry the SHA-256 so the store checks integrity.
    """

    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, *, page_size: int = 1000
    ) -> None:
        import boto3  # boto3 and botocore load only when S3 is configured
        from botocore.config import Config

        if not bucket:
            raise BlobError("S3 blob URL needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.page_size = page_size
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 4, "mode": "standard"},
            ),
        )

    def _name(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}.pdf" if self.prefix else f"{key}.pdf"

    @staticmethod
    def _status(e: Exception) -> str:
        response = getattr(e, "response", None) or {}
        return str(response.get("Error", {}).get("Code", ""))

    def put(self, data: bytes) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        digest = hashlib.sha256(data)
        key = digest.hexdigest()
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._name(key),
                Body=data,
                ContentType="application/pdf",
                ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
            )
        except (BotoCoreError, ClientError) as e:
            raise BlobError(f"cannot store blob {key} in bucket {self.bucket!r}: {e}") from e
        return key

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
            return obj["Body"].read()
        except ClientError as e:
            if self._status(e) in ("NoSuchKey", "404"):
                return None
            raise BlobError(f"cannot read blob {key} from bucket {self.bucket!r}: {e}") from e
        except BotoCoreError as e:
            raise BlobError(f"cannot read blob {key} from bucket {self.bucket!r}: {e}") from e

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as e:
            if self._status(e) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise BlobError(f"cannot look up blob {key} in bucket {self.bucket!r}: {e}") from e
        except BotoCoreError as e:
            raise BlobError(f"cannot look up blob {key} in bucket {self.bucket!r}: {e}") from e
        return True

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except (BotoCoreError, ClientError) as e:
            raise BlobError(f"cannot delete blob {key} from bucket {self.bucket!r}: {e}") from e

    def keys(self) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        start = f"{self.prefix}/" if self.prefix else ""
        out: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start, PaginationConfig={"PageSize": self.page_size}
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(start) :]
                    if name.endswith(".pdf") and _KEY.match(name[:-4]):  # not in a sub-"folder"
                        out.append(name[:-4])
        except (BotoCoreError, ClientError) as e:
            raise BlobError(f"cannot list bucket {self.bucket!r}: {e}") from e
        return sorted(out)

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as e:
            raise BlobError(f"bucket {self.bucket!r} not reachable: {e}") from e


def open_blob_store(url: str, endpoint_url: str | None = None) -> BlobStore:
    """The blob store ``url`` names: ``file://`` (or a plain path) or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return S3BlobStore(parsed.netloc, parsed.path, endpoint_url)
    if parsed.scheme in ("file", ""):
        return FileBlobStore(Path(parsed.path if parsed.scheme else url))
    raise BlobError(f"unsupported blob URL scheme {parsed.scheme!r} (use file:// or s3://)")
