"""``certsvc backup`` / ``certsvc restore`` for the embedded default (SQLite, blob files, key files)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from certsvc.backup import BackupError, backup, restore, verify_backup
from certsvc.blobstore import FileBlobStore
from certsvc.context import Context
from certsvc.core.config import Settings, load_settings, reset_settings
from certsvc.db.session import engine_for, session_scope


def _settings(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Settings:
    """Embedded defaults on ``data_dir``, the key passphrase in its 0600 file (not the env)."""
    for name in (
        "CERTSVC_KEY_PASSPHRASE",
        "CERTSVC_KEY_PASSPHRASE_FILE",
        "CERTSVC_BLOB_URL",
        "CERTSVC_PKCS11_MODULE",
        "CERTSVC_KEY_BACKEND",
        "CERTSVC_S3_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CERTSVC_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CERTSVC_DATABASE_URL", f"sqlite:///{data_dir / 'certsvc.db'}")
    monkeypatch.setenv("CERTSVC_PUBLIC_BASE_URL", "http://testserver")
    reset_settings()
    return load_settings()


@pytest.fixture
def data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """A data directory with a migrated database, a root CA (keys + passphrase file) and two blobs."""
    settings = _settings(monkeypatch, tmp_path / "data")
    ctx = Context(settings)
    ctx.migrate()
    with session_scope(ctx.engine) as s:
        ctx.keyring.ensure_root(s)
    blobs = FileBlobStore(settings.blobs_dir)
    blobs.put(b"%PDF-1.7 one")
    blobs.put(b"%PDF-1.7 two")
    yield settings
    ctx.engine.dispose()
    reset_settings()


def _rows(db: Path, table: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        con.close()


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_backup_writes_everything_with_a_manifest(data: Settings, tmp_path: Path) -> None:
    dest = tmp_path / "bk"
    summary = backup(data, dest)  # online: the service's engine is still open on the database
    assert summary.blobs == 2 and summary.keys >= 3  # root + service seal keys, passphrase
    manifest = json.loads((dest / "manifest.json").read_text())
    files = manifest["files"]
    assert "certsvc.db" in files
    assert manifest["passphrase_file"] == "keys/passphrase"  # a path
    assert manifest["schema_revision"]
    on_disk = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} - {"manifest.json"}
    assert on_disk == set(files)
    for rel, entry in files.items():
        assert hashlib.sha256((dest / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    # Secrets keep their permissions.
    assert _mode(dest / "keys") == 0o700
    assert _mode(dest / "keys" / "passphrase") == 0o600
    assert all(_mode(p) == 0o600 for p in (dest / "keys").glob("*.p8.pem"))
    assert _mode(dest / "certsvc.db") == 0o600
    assert _mode(dest) == 0o700
    # The database copy is complete and self-contained (no -wal needed).
    certs = _rows(data.data_dir / "certsvc.db", "signing_certificate")
    assert _rows(dest / "certsvc.db", "signing_certificate") == certs
    assert not (dest / "certsvc.db-wal").exists()
    verify_backup(dest)


def test_backup_refuses_a_non_empty_destination_or_one_inside_the_data(data: Settings, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BackupError, match="not an empty directory"):
        backup(data, tmp_path / "full")
    with pytest.raises(BackupError, match="inside"):
        backup(data, data.data_dir / "backups" / "today")
    empty = tmp_path / "empty"
    empty.mkdir()
    backup(data, empty)  # an empty existing directory is fine
    assert (empty / "manifest.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_backup_refuses_postgres_and_s3(data: Settings, tmp_path: Path) -> None:
    pg = dataclasses.replace(data, database_url="postgresql+psycopg://u@localhost/db")
    with pytest.raises(BackupError, match="pg_dump"):
        backup(pg, tmp_path / "a")
    s3 = dataclasses.replace(data, blob_url="s3://bucket/prefix")
    with pytest.raises(BackupError, match="s3://"):
        backup(s3, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_restore_into_a_fresh_data_dir(data: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backup(data, tmp_path / "bk")
    fresh = _settings(monkeypatch, tmp_path / "fresh")
    summary = restore(tmp_path / "bk", fresh)
    assert summary.blobs == 2 and summary.moved_aside is None
    assert _rows(fresh.data_dir / "certsvc.db", "signing_certificate") == _rows(
        data.data_dir / "certsvc.db", "signing_certificate"
    )
    assert FileBlobStore(fresh.blobs_dir).keys() == FileBlobStore(data.blobs_dir).keys()
    assert (fresh.keys_dir / "passphrase").read_bytes() == (data.keys_dir / "passphrase").read_bytes()
    assert _mode(fresh.keys_dir) == 0o700 and _mode(fresh.keys_dir / "passphrase") == 0o600
    # The restored keys open with the restored passphrase: the root key still signs.
    ctx = Context(fresh)
    root = ctx.keyring.root()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    sig = ctx.key_backend.sign(root.key_label, b"after restore")
    root.cert.public_key().verify(sig, b"after restore", ec.ECDSA(hashes.SHA256()))
    assert not [p.name for p in fresh.data_dir.iterdir() if p.name.startswith(".restore")]


def test_restore_refuses_a_non_empty_data_dir_unless_forced(data: Settings, tmp_path: Path) -> None:
    backup(data, tmp_path / "bk")
    before = (data.data_dir / "certsvc.db").read_bytes()
    with pytest.raises(BackupError, match="--force"):
        restore(tmp_path / "bk", data)
    assert (data.data_dir / "certsvc.db").read_bytes() == before
    # Something changes after the backup; a forced restore brings the backup back, keeps the rest.
    FileBlobStore(data.blobs_dir).put(b"%PDF-1.7 three")
    engine_for(data.database_url).dispose()
    summary = restore(tmp_path / "bk", data, force=True)
    assert summary.moved_aside is not None and summary.moved_aside.parent == data.data_dir
    assert len(FileBlobStore(data.blobs_dir).keys()) == 2
    assert len(FileBlobStore(summary.moved_aside / "blobs").keys()) == 3
    assert (summary.moved_aside / "certsvc.db").exists()
    verify_backup(tmp_path / "bk")  # the backup itself is untouched


def test_the_sealing_key_goes_with_the_backup_and_comes_back(
    data: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from certsvc import sealed

    kept = sealed.seal(data, b"test", "row-1", "a share token")
    backup(data, tmp_path / "bk")
    assert (tmp_path / "bk" / "sealing-key").read_bytes() == (data.data_dir / "sealing-key").read_bytes()
    assert _mode(tmp_path / "bk" / "sealing-key") == 0o600
    fresh = _settings(monkeypatch, tmp_path / "fresh")
    restore(tmp_path / "bk", fresh)
    assert _mode(fresh.data_dir / "sealing-key") == 0o600
    assert sealed.unseal(fresh, b"test", "row-1", kept) == "a share token"
    # a forced restore puts the backed-up key in place and the one it replaces aside
    (fresh.data_dir / "sealing-key").write_text("00" * 32)
    engine_for(fresh.database_url).dispose()
    summary = restore(tmp_path / "bk", fresh, force=True)
    assert summary.moved_aside and (summary.moved_aside / "sealing-key").read_text() == "00" * 32
    assert sealed.unseal(fresh, b"test", "row-1", kept) == "a share token"


@pytest.mark.parametrize("damage", ["change", "remove", "add", "manifest"])
def test_a_damaged_backup_is_refused_before_anything_is_touched(
    data: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    bk = tmp_path / "bk"
    backup(data, bk)
    blob = next(p for p in (bk / "blobs").rglob("*") if p.is_file())
    if damage == "change":
        blob.write_bytes(blob.read_bytes() + b" ")
    elif damage == "remove":
        next((bk / "keys").glob("*.p8.pem")).unlink()
    elif damage == "add":
        (bk / "blobs" / "extra").write_bytes(b"x")
    else:
        (bk / "manifest.json").write_text("{not json")
    with pytest.raises(BackupError):
        verify_backup(bk)
    fresh = _settings(monkeypatch, tmp_path / "fresh")
    with pytest.raises(BackupError):
        restore(bk, fresh)
    assert not (tmp_path / "fresh").exists() or not any((tmp_path / "fresh").iterdir())


def test_a_directory_without_manifest_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "certsvc.db").write_bytes(b"")
    with pytest.raises(BackupError, match="manifest"):
        restore(tmp_path / "bk", _settings(monkeypatch, tmp_path / "fresh"))


def test_cli_backup_and_restore(
    data: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from certsvc.cli import main

    assert main(["backup", str(tmp_path / "bk")]) == 0
    assert "backup written" in capsys.readouterr().out
    assert main(["backup", str(tmp_path / "bk")]) == 2  # not over an existing backup
    assert "not an empty directory" in capsys.readouterr().err

    _settings(monkeypatch, tmp_path / "fresh")
    assert main(["restore", str(tmp_path / "bk")]) == 0
    assert "manifest checked" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "bk")]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["restore", "--force", str(tmp_path / "bk")]) == 0
    assert "moved to" in capsys.readouterr().out


def test_an_old_licence_verifies_after_restore(tmp_path: Path) -> None:
    """Issue, back up (service running), restore into a fresh data dir, and check the old licence."""
    from tests.support.pdfcheck import signature_status
    from tests.support.service import restored_environment
    from tests.support.standalone import standalone_service

    def env(d: Path) -> dict[str, str]:
        # Embedded defaults, with the passphrase in its file (so the backup must carry it).
        return {"CERTSVC_DATABASE_URL": f"sqlite:///{d / 'certsvc.db'}", "CERTSVC_KEY_PASSPHRASE": ""}

    old, new = tmp_path / "old", tmp_path / "new"
    with standalone_service(old, **env(old)) as svc:
        licence = svc.issue()
        pdf = svc.pdf(licence)
        svc.assert_valid_seal(pdf)
        auth = svc.auth
        root_pem = svc.ctx.keyring.root().pem
        assert (old / "keys" / "passphrase").exists()
        backup(svc.ctx.settings, tmp_path / "bk")

    with restored_environment():
        from tests.support.service import make_settings

        restore(tmp_path / "bk", make_settings(new, **env(new)))

    with standalone_service(new, setup=False, **env(new)) as svc:
        assert svc.ctx.keyring.root().pem == root_pem  # the root comes from the restored database
        verify_path = licence["verify_url"].removeprefix("http://testserver")
        r = svc.client.get(verify_path, headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
        assert r.json()["number"] == licence["number"]
        r = svc.client.get(f"/api/v1/licences/{licence['id']}/pdf", headers=auth)  # the old API key
        assert r.status_code == 200, r.text
        assert r.content == pdf
        _sig, status = signature_status(svc.ctx, r.content)
        assert status.intact and status.valid and status.trusted and status.bottom_line
        # The restored keys still seal: a new licence from the same department validates too.
        svc.auth = auth
        svc.assert_valid_seal(svc.pdf(svc.issue()))
