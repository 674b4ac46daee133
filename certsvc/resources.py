"""The composition root: the parts every process of the service builds from its settings.

The web process (through :class:`certsvc.context.Context`), the CLI and each sealing worker build
their own: engines, key sessions and blob clients never travel between processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine

from certsvc.blobstore import BlobStore, open_blob_store
from certsvc.core.config import Settings
from certsvc.core.files import private_dir
from certsvc.db.session import engine_for, upgrade
from certsvc.keyring import Keyring
from keys import KeyBackend, open_backend


@dataclass
class Resources:
    """Database engine, blob store and keys, each opened on first use."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return engine_for(self.settings.database_url)

    @cached_property
    def blobs(self) -> BlobStore:
        return open_blob_store(self.settings.blob_url, self.settings.s3_endpoint_url)

    @cached_property
    def key_backend(self) -> KeyBackend:
        return open_backend(self.settings.key_config())

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring(self.engine, self.key_backend, self.settings.public_base_url)

    def migrate(self) -> None:
        """Create the data directory and bring the schema up to date."""
        private_dir(self.settings.data_dir)
        upgrade(self.settings.database_url)
