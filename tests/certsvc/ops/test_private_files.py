"""Data at rest is the service user's only: the database (and its -wal/-shm), blobs, keys and
backups are 0600 in 0700 directories, whatever the umask of the shell that started it, and
``certsvc init`` tightens what an older version left readable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from certsvc.backup import backup
from certsvc.blobstore import FileBlobStore
from certsvc.db.session import make_engine
from tests.support.standalone import standalone_service


@pytest.fixture
def shell_umask() -> Iterator[None]:
    """The usual umask of a login shell (022: files 0644, directories 0755) while the test runs."""
    saved = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(saved)


def readable_by_others(root: Path) -> list[str]:
    """Every file or directory under ``root`` (itself included) that its group or others may use."""
    found = []
    for p in [root, *root.rglob("*")]:
        mode = p.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{p.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


def test_the_data_dir_is_the_service_users_only(tmp_path: Path, shell_umask: None) -> None:
    data = tmp_path / "data"
    with standalone_service(data) as svc:
        lic = svc.issue()
        svc.pdf(lic)
        if svc.ctx.settings.database_url.startswith("sqlite"):
            assert (data / "certsvc.db-wal").exists()  # while the engine is open
        assert readable_by_others(data) == []


@pytest.mark.skipif(
    bool(os.environ.get("CERTSVC_TEST_DATABASE_URL")),
    reason="certsvc backup covers the embedded SQLite database; PostgreSQL is backed up with pg_dump",
)
def test_a_backup_is_the_service_users_only(tmp_path: Path, shell_umask: None) -> None:
    data = tmp_path / "data"
    with standalone_service(data) as svc:
        svc.pdf(svc.issue())
        summary = backup(svc.ctx.settings, tmp_path / "backup")
    assert summary.blobs >= 1
    assert readable_by_others(data) == []
    assert readable_by_others(tmp_path / "backup") == []


def test_blobs_and_a_new_sqlite_database_are_private_under_any_umask(tmp_path: Path, shell_umask: None) -> None:
    FileBlobStore(tmp_path / "blobs").put(b"%PDF-1.7 private")
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'x.db'}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (v TEXT)")
            conn.exec_driver_sql("INSERT INTO t VALUES ('住所')")
        assert (tmp_path / "db" / "x.db-wal").exists()
        assert readable_by_others(tmp_path / "blobs") == []
        assert readable_by_others(tmp_path / "db") == []
    finally:
        engine.dispose()


def test_init_tightens_what_an_older_version_left_readable(tmp_path: Path, shell_umask: None) -> None:
    data = tmp_path / "data"
    old_blob = data / "blobs" / "ab" / "cd" / ("abcd" + "0" * 60)
    old_blob.parent.mkdir(parents=True)
    old_blob.write_bytes(b"%PDF-1.7 old")
    os.chmod(old_blob, 0o644)
    for d in (data, data / "blobs", data / "blobs" / "ab", old_blob.parent):
        os.chmod(d, 0o755)
    env = {
        **os.environ,
        "CERTSVC_DATA_DIR": str(data),
        "CERTSVC_DATABASE_URL": f"sqlite:///{data / 'certsvc.db'}",
        "CERTSVC_KEY_PASSPHRASE": "test-passphrase",
    }
    for name in ("CERTSVC_BLOB_URL", "CERTSVC_KEY_BACKEND", "CERTSVC_PKCS11_MODULE"):
        env.pop(name, None)
    r = subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "init"], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert "readable by this user only" in r.stderr
    assert readable_by_others(data) == []
