"""The running service's parts, built once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine

from certsvc.blobstore import BlobStore, open_blob_store
from certsvc.core.config import Settings
from certsvc.db.session import engine_for, upgrade
from certsvc.keyring import Keyring
from certsvc.services.counts import ScanCounter
from certsvc.services.sealing_pool import SealRunner
from keys import KeyBackend, open_backend


@dataclass
class Context:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return engine_for(self.settings.database_url)

    @cached_property
    def blobs(self) -> BlobStore:
        return open_blob_store(self.settings.blob_url, self.settings.s3_endpoint_url)

    @cached_property
    def key_backend(self) -> KeyBackend:
        return open_backend(self.settings)

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring(self.engine, self.key_backend)

    @cached_property
    def scans(self) -> ScanCounter:
        return ScanCounter()

    @cached_property
    def sealer(self) -> SealRunner:
        return SealRunner(self.settings, self.keyring, self.blobs)

    def migrate(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(self.settings.database_url)
