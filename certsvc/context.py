"""The running service's parts: the shared :class:`~certsvc.resources.Resources` plus what only
the web process has (the sealing worker pool, the analysis workers, the in-memory scan counter)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine

from certsvc.capacity import Capacity
from certsvc.db.session import read_engine_for
from certsvc.denials import DenialLog
from certsvc.licences.scans import ScanCounter
from certsvc.licences.view_cache import PublicViewCache
from certsvc.resources import Resources
from certsvc.sealing.pool import SealRunner


@dataclass
class Context(Resources):
    """Built once per web or CLI process by :func:`certsvc.app.create_app` or the CLI."""

    @cached_property
    def scans(self) -> ScanCounter:
        return ScanCounter()

    @cached_property
    def read_engine(self) -> Engine:
        """The engine of the public read paths (:func:`certsvc.db.session.make_read_engine`)."""
        return read_engine_for(self.settings.database_url)

    @cached_property
    def public_views(self) -> PublicViewCache:
        """This process's cache of QR pages (PostgreSQL only; :mod:`certsvc.licences.view_cache`)."""
        return PublicViewCache(self.settings.database_url, self.settings.public_view_cache)

    @cached_property
    def denials(self) -> DenialLog:
        return DenialLog()

    @cached_property
    def sealer(self) -> SealRunner:
        return SealRunner(self.settings, self)

    @cached_property
    def capacity(self) -> Capacity:
        """The analysis workers every upload is parsed in, and who may use them when."""
        return Capacity(self.settings)
