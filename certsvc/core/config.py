"""Settings, read from ``CERTSVC_*`` environment variables with embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import overload

from keys import KeyConfig


@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: None = None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"CERTSVC_{name}")
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Built from the environment by :func:`get_settings`."""

    data_dir: Path
    database_url: str
    public_base_url: str
    blob_url: str
    key_backend: str  # "file" or "pkcs11"
    key_passphrase: str | None
    key_passphrase_file: Path
    pkcs11_module: str | None = None
    pkcs11_token_label: str | None = None
    pkcs11_pin: str | None = None
    s3_endpoint_url: str | None = None
    max_upload_bytes: int = 20 * 1024 * 1024
    verify_timeout_s: float = 4.5
    verify_workers: int = 2
    """Analysis worker processes for anonymous uploads (verification)."""
    reserved_workers: int = 1
    """Further workers only authenticated work may use (departments, enterprises): an anonymous
    flood cannot take them."""
    uploads_per_client: int = 1
    """Anonymous uploads one client address may have running or waiting at once (429 beyond)."""
    uploads_per_minute: int = 20
    """Anonymous uploads one client address may start per minute (429 beyond)."""
    upload_queue: int = 4
    """Uploads that may wait for a worker, per kind of caller (503 beyond)."""
    upload_wait_s: float = 10.0
    """Longest wait for a worker before 503."""
    header_timeout_s: float = 10.0
    """``serve``: a connection must deliver a request's headers within this time, or it is closed."""
    body_timeout_s: float = 20.0
    """``serve``: longest silence while a request body is being received."""
    keep_alive_s: int = 5
    """``serve``: an idle keep-alive connection is closed after this time."""
    max_connections: int = 1000
    public_view_cache: int = 10_000
    """QR pages (public views) each server process keeps in memory, on PostgreSQL; 0 turns it off."""
    verify_fast_path: bool = True
    """Answer an upload of a file the service produced and already analysed from its recorded findings."""
    """``serve``: connections (and requests) at once per server process; 503 beyond."""
    sign_workers: int = 0
    status_list_ttl_s: int = 300
    audit_checkpoint_s: float = 300.0
    scan_flush_s: float = 2.0
    """How often counted QR scans are written to the database."""
    denial_flush_s: float = 10.0
    """How often refused attempts of finished minutes are written to the audit log."""
    sweep_interval_s: float = 60.0
    """``serve``: how often time-driven changes (overdue materials, expiries) are swept; 0 turns the scheduler off."""
    events_interval_s: float = 2.0
    """``serve``: how often due event deliveries are looked for; 0 turns the dispatcher off."""
    events_concurrency: int = 8
    """Event deliveries in flight at once per server process."""
    events_timeout_s: float = 10.0
    """Longest wait for a receiver's answer to one delivery."""
    events_retry_for_s: float = 86400.0
    """How long a delivery is retried (exponential backoff, 10 s doubling up to 1 h) before it is marked failed."""
    job_max_mib: int = 64
    """Largest ``POST /licence-jobs`` body, in MiB (a back-fill job of up to 100,000 items)."""
    jobs_interval_s: float = 1.0
    """``serve``: how often queued back-fill job items are looked for; 0 turns the job runner off."""
    job_lease_s: float = 30.0
    """How long claimed back-fill items are one process's (renewed while it works); after a crash
    another process (or the restarted one) takes them over after at most this time."""
    trusted_proxies: str = ""
    """Reverse proxies whose ``X-Forwarded-For`` is believed (addresses or CIDRs, comma-separated)."""
    activation_window_s: int = 900
    """How long a failed activation attempt counts against the limits below."""
    activation_failures_per_client: int = 10
    """Failed activations one client address may make within the window before it gets 429."""
    activation_failures_per_uscc: int = 20
    """Failures for one USCC (from any address) after which each address gets one failure for it per window."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def key_config(self) -> KeyConfig:
        """Where the keys live, for :func:`keys.open_backend`."""
        return KeyConfig(
            kind="pkcs11" if self.key_backend == "pkcs11" else "file",
            keys_dir=self.keys_dir,
            passphrase=self.key_passphrase,
            passphrase_file=self.key_passphrase_file,
            pkcs11_module=self.pkcs11_module,
            pkcs11_token_label=self.pkcs11_token_label,
            pkcs11_pin=self.pkcs11_pin,
        )


def load_settings() -> Settings:
    """Read the environment afresh; :func:`get_settings` is the cached one the app uses."""
    data_dir = Path(_env("DATA_DIR", str(Path.cwd() / "certsvc-data"))).expanduser().resolve()
    db_default = f"sqlite:///{data_dir / 'certsvc.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=_env("DATABASE_URL", db_default),
        public_base_url=_env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        blob_url=_env("BLOB_URL", f"file://{data_dir / 'blobs'}"),
        key_backend="pkcs11" if _env("PKCS11_MODULE") else _env("KEY_BACKEND", "file"),
        key_passphrase=_env("KEY_PASSPHRASE"),
        key_passphrase_file=Path(_env("KEY_PASSPHRASE_FILE", str(data_dir / "keys" / "passphrase"))),
        pkcs11_module=_env("PKCS11_MODULE"),
        pkcs11_token_label=_env("PKCS11_TOKEN_LABEL", "certsvc"),
        pkcs11_pin=_env("PKCS11_PIN"),
        s3_endpoint_url=_env("S3_ENDPOINT_URL"),
        max_upload_bytes=int(_env("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))),
        verify_timeout_s=float(_env("VERIFY_TIMEOUT_S", "4.5")),
        verify_workers=int(_env("VERIFY_WORKERS", "2")),
        reserved_workers=int(_env("RESERVED_WORKERS", "1")),
        uploads_per_client=int(_env("UPLOADS_PER_CLIENT", "1")),
        uploads_per_minute=int(_env("UPLOADS_PER_MINUTE", "20")),
        upload_queue=int(_env("UPLOAD_QUEUE", "4")),
        upload_wait_s=float(_env("UPLOAD_WAIT_S", "10")),
        header_timeout_s=float(_env("HEADER_TIMEOUT_S", "10")),
        body_timeout_s=float(_env("BODY_TIMEOUT_S", "20")),
        keep_alive_s=int(_env("KEEP_ALIVE_S", "5")),
        max_connections=int(_env("MAX_CONNECTIONS", "1000")),
        public_view_cache=int(_env("PUBLIC_VIEW_CACHE", "10000")),
        verify_fast_path=_env("VERIFY_FAST_PATH", "1") not in ("0", "false", "no"),
        sign_workers=int(_env("SIGN_WORKERS", "0")),
        status_list_ttl_s=int(_env("STATUS_LIST_TTL_S", "300")),
        audit_checkpoint_s=float(_env("AUDIT_CHECKPOINT_S", "300")),
        scan_flush_s=float(_env("SCAN_FLUSH_S", "2")),
        denial_flush_s=float(_env("DENIAL_FLUSH_S", "10")),
        sweep_interval_s=float(_env("SWEEP_INTERVAL_S", "60")),
        events_interval_s=float(_env("EVENTS_INTERVAL_S", "2")),
        events_concurrency=int(_env("EVENTS_CONCURRENCY", "8")),
        events_timeout_s=float(_env("EVENTS_TIMEOUT_S", "10")),
        events_retry_for_s=float(_env("EVENTS_RETRY_FOR_S", "86400")),
        job_max_mib=int(_env("JOB_MAX_MIB", "64")),
        jobs_interval_s=float(_env("JOBS_INTERVAL_S", "1")),
        job_lease_s=float(_env("JOB_LEASE_S", "30")),
        trusted_proxies=_env("TRUSTED_PROXIES", ""),
        activation_window_s=int(_env("ACTIVATION_WINDOW_S", "900")),
        activation_failures_per_client=int(_env("ACTIVATION_FAILURES_PER_CLIENT", "10")),
        activation_failures_per_uscc=int(_env("ACTIVATION_FAILURES_PER_USCC", "20")),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once: every module sees the same values."""
    return load_settings()


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between apps)."""
    get_settings.cache_clear()
