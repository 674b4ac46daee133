"""Backup and restore of the embedded default: the SQLite database, the blob files, the key files.

A backup directory holds ``certsvc.db`` (an SQLite online backup, consistent while the service
runs), ``blobs/``, ``keys/`` (the encrypted key files and, when it lives there, the passphrase
file), ``passphrase`` (only when the passphrase file lives outside the keys directory), the data
directory's own keys (``sealing-key``, without which sealed share links and webhook secrets cannot
be read, and ``portal-secret``), and ``manifest.json``, written last, with the size, mode and
SHA-256 of every file.

The database is copied first, then blobs and keys: blobs and keys are written before the database
rows that refer to them and are never changed afterwards, so everything the copied database
refers to is in the copy. The backup holds the key passphrase next to the encrypted keys (when it
comes from a file): keep it as safe as the data directory itself.

PostgreSQL, S3 and PKCS#11 deployments are backed up with their own tools (``pg_dump``, bucket
versioning/replication, the HSM's backup); :func:`backup` refuses them, except that a PKCS#11
key backend only leaves the keys out (noted in the manifest).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.engine import make_url

from certsvc import __version__
from certsvc.core.config import Settings
from certsvc.errors import ServiceError

FORMAT = "certsvc-backup"
VERSION = 1
MANIFEST = "manifest.json"
DB_NAME = "certsvc.db"
PASSPHRASE_NAME = "passphrase"  # noqa: S105 - a file name
DATA_KEYS = ("sealing-key", "portal-secret")
"""Key files kept in the data directory itself (see :mod:`certsvc.sealed`, the portal's sessions)."""
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
_CHUNK = 1 << 20


class BackupError(ServiceError, RuntimeError):
    """A backup or restore that cannot be done as asked; the CLI prints it and exits 2."""

    code = "backup_failed"

    def diagnostics(self) -> str:
        return f"backup error: {self}"


@dataclass
class Summary:
    """What a backup or restore did, for the CLI to print."""

    directory: Path
    files: int = 0
    bytes: int = 0
    blobs: int = 0
    keys: int = 0
    notes: list[str] = field(default_factory=list)
    moved_aside: Path | None = None


# --- where things live ------------------------------------------------------------------


def sqlite_path(settings: Settings) -> Path:
    """The SQLite file to copy; a backup of another database belongs to that database's own tools."""
    url = make_url(settings.database_url)
    if not url.drivername.startswith("sqlite"):
        raise BackupError(
            f"backup/restore covers the embedded SQLite database, not {url.drivername}: "
            "use pg_dump/pg_restore for PostgreSQL"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("the database is in memory: nothing to back up")
    return Path(url.database).expanduser().resolve()


def blobs_root(settings: Settings) -> Path:
    """The local directory of the blobs; remote object stores keep their own copies."""
    parsed = urlparse(settings.blob_url)
    if parsed.scheme not in ("file", ""):
        raise BackupError(
            f"backup/restore covers blobs on the local disk, not {parsed.scheme}:// "
            "(use the object store's versioning or replication)"
        )
    return Path(parsed.path if parsed.scheme else settings.blob_url).expanduser().resolve()


# --- files --------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _is_temp(path: Path) -> bool:
    return path.name.endswith(".tmp") or path.name.startswith(".")


def _copy_tree(src: Path, dest: Path) -> int:
    """Copy regular files (contents, mode, times) from ``src`` into ``dest``; skip temp files."""
    n = 0
    if not src.is_dir():
        return 0
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = Path(root).relative_to(src)
        target = dest / rel
        target.mkdir(parents=True, exist_ok=True)
        shutil.copymode(root, target)
        for name in sorted(files):
            path = Path(root) / name
            if _is_temp(path) or not path.is_file() or path.is_symlink():
                continue
            shutil.copy2(path, target / name)
            n += 1
    return n


def _sqlite_copy(src: Path, dest: Path) -> None:
    """An online backup of ``src`` into ``dest`` (consistent even while the service writes)."""
    if not src.exists():
        raise BackupError(f"no database at {src}: run `certsvc init` first")
    source = sqlite3.connect(f"{src.as_uri()}?mode=rw", uri=True, timeout=30)  # never creates
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        finally:
            target.close()
    finally:
        source.close()
    _integrity(dest)


def _integrity(path: Path) -> str:
    """Check an SQLite copy; return its Alembic schema revision."""
    con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        result = con.execute("PRAGMA integrity_check").fetchone()
        if not result or result[0] != "ok":
            raise BackupError(f"database copy {path} fails its integrity check: {result}")
        try:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError:
            row = None
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} is not a usable SQLite database: {e}") from e
    finally:
        con.close()
    if not row:
        raise BackupError(f"database {path} has no schema version: not a certsvc database?")
    return str(row[0])


def _file_entries(root: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            rel = path.relative_to(root).as_posix()
            st = path.stat()
            out[rel] = {"sha256": _sha256(path), "size": st.st_size, "mode": stat.S_IMODE(st.st_mode)}
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_tree(root: Path) -> None:
    for path in [*root.rglob("*"), root]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- backup -------------------------------------------------------------------------------


def backup(settings: Settings, dest_dir: Path) -> Summary:
    """Back up the database, blobs and keys of ``settings`` into the new directory ``dest_dir``."""
    db = sqlite_path(settings)
    blobs = blobs_root(settings)
    dest = Path(dest_dir).expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty directory")
    if dest.is_relative_to(settings.data_dir.resolve()) or dest.is_relative_to(blobs):
        raise BackupError(f"{dest} is inside the directories it would back up")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Build the backup next to its destination, then move it in: a half-written backup is never
    # mistaken for a complete one.
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        os.chmod(work, 0o700)
        summary = Summary(directory=dest)
        _sqlite_copy(db, work / DB_NAME)
        os.chmod(work / DB_NAME, 0o600)
        summary.blobs = _copy_tree(blobs, work / "blobs")
        for name in DATA_KEYS:
            if (settings.data_dir / name).is_file():
                shutil.copy2(settings.data_dir / name, work / name)
        notes: list[str] = []
        passphrase_rel: str | None = None
        if settings.key_backend == "pkcs11":
            notes.append("keys are in the PKCS#11 token and are not in this backup")
        else:
            summary.keys = _copy_tree(settings.keys_dir, work / "keys")
            pf = Path(settings.key_passphrase_file).expanduser().resolve()
            if not settings.key_passphrase and pf.is_file():
                if pf.is_relative_to(settings.keys_dir.resolve()):
                    passphrase_rel = (Path("keys") / pf.relative_to(settings.keys_dir.resolve())).as_posix()
                else:
                    shutil.copy2(pf, work / PASSPHRASE_NAME)
                    passphrase_rel = PASSPHRASE_NAME
        if settings.key_passphrase:
            notes.append("the key passphrase comes from CERTSVC_KEY_PASSPHRASE and is not in this backup")
        files = _file_entries(work)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "certsvc_version": _certsvc_version(),
            "schema_revision": _integrity(work / DB_NAME),
            "passphrase_file": passphrase_rel,
            "key_backend": settings.key_backend,
            "source": {"data_dir": str(settings.data_dir), "database": str(db), "blobs": str(blobs)},
            "notes": notes,
            "files": files,
        }
        _write_json(work / MANIFEST, manifest)
        _fsync_tree(work)
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    summary.files = len(files)
    summary.bytes = sum(e["size"] for e in files.values())
    summary.notes = notes
    return summary


def _certsvc_version() -> str:
    return __version__


# --- verify and restore ---------------------------------------------------------------------


def verify_backup(src_dir: Path) -> dict[str, Any]:
    """Check ``src_dir`` against its manifest; return the manifest or raise :class:`BackupError`."""
    src = Path(src_dir).expanduser().resolve()
    path = src / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise BackupError(f"{src} has no {MANIFEST}: not a (complete) certsvc backup") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise BackupError(f"{path} is not valid JSON: {e}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a certsvc backup manifest")
    if manifest.get("version") != VERSION:
        raise BackupError(f"backup format version {manifest.get('version')!r} is not supported")
    listed = manifest.get("files")
    if not isinstance(listed, dict) or not all(isinstance(e, dict) for e in listed.values()):
        raise BackupError(f"{path} has no valid file list")
    if DB_NAME not in listed:
        raise BackupError(f"the manifest lists no {DB_NAME}")
    problems: list[str] = []
    for rel, entry in sorted(listed.items()):
        p = src / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            problems.append(f"{rel}: unsafe path")
        elif not p.is_file():
            problems.append(f"{rel}: missing")
        elif p.stat().st_size != entry.get("size"):
            problems.append(f"{rel}: size {p.stat().st_size}, manifest says {entry.get('size')}")
        elif _sha256(p) != entry.get("sha256"):
            problems.append(f"{rel}: SHA-256 differs from the manifest")
    present = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() and p.name != MANIFEST}
    problems += [f"{rel}: not in the manifest" for rel in sorted(present - set(listed))]
    if problems:
        shown = "; ".join(problems[:10]) + (f"; … {len(problems) - 10} more" if len(problems) > 10 else "")
        raise BackupError(f"backup {src} does not match its manifest: {shown}")
    _integrity(src / DB_NAME)
    return manifest


def _occupied(settings: Settings, db: Path, blobs: Path) -> list[Path]:
    """What the restore would replace that already exists."""
    found: list[Path] = []
    if settings.data_dir.exists() and any(settings.data_dir.iterdir()):
        found.append(settings.data_dir)
    for p in (db, blobs, settings.keys_dir):
        empty_dir = p.is_dir() and not any(p.iterdir())
        if p.exists() and not empty_dir and not p.is_relative_to(settings.data_dir):
            found.append(p)
    return found


def _move_aside(paths: list[Path], aside: Path) -> None:
    for p in paths:
        if p.exists():
            aside.mkdir(parents=True, exist_ok=True, mode=0o700)
            target = aside / p.name
            n = 1
            while target.exists():
                n += 1
                target = aside / f"{p.name}.{n}"
            shutil.move(str(p), str(target))


def restore(src_dir: Path, settings: Settings, *, force: bool = False) -> Summary:
    """Restore the backup in ``src_dir`` to the locations of ``settings``.

    Refuses a non-empty data directory unless ``force``; with ``force`` what would be replaced
    is moved into ``<data_dir>/pre-restore-<time>/``, never deleted. Stop the service first.
    """
    src = Path(src_dir).expanduser().resolve()
    manifest = verify_backup(src)
    db = sqlite_path(settings)
    blobs = blobs_root(settings)
    data_dir = settings.data_dir.resolve()
    occupied = _occupied(settings, db, blobs)
    if occupied and not force:
        raise BackupError(
            f"{', '.join(map(str, occupied))} not empty: restore into a fresh data directory, "
            "or pass --force to move what is there aside"
        )
    summary = Summary(directory=src, notes=list(manifest.get("notes") or []))
    data_dir.mkdir(parents=True, exist_ok=True)
    # Stage and check everything first; only then move the old data aside and the new in.
    stage = Path(tempfile.mkdtemp(prefix=".restore.", dir=data_dir))
    try:
        os.chmod(stage, 0o700)
        shutil.copy2(src / DB_NAME, stage / DB_NAME)
        summary.blobs = _copy_tree(src / "blobs", stage / "blobs")
        summary.keys = _copy_tree(src / "keys", stage / "keys")
        for name in DATA_KEYS:
            if (src / name).is_file():
                shutil.copy2(src / name, stage / name)
        if passphrase_rel := manifest.get("passphrase_file"):
            if not (stage / passphrase_rel).exists():
                (stage / passphrase_rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src / passphrase_rel, stage / passphrase_rel)
        listed: dict[str, dict[str, Any]] = manifest["files"]
        for rel, entry in listed.items():
            p = stage / rel
            # What is put in place is what the manifest describes (not merely what was checked).
            if not p.is_file() or _sha256(p) != entry.get("sha256"):
                raise BackupError(f"{rel} changed in {src} while it was being restored")
            if isinstance(entry.get("mode"), int):
                os.chmod(p, entry["mode"] & 0o777)  # the mode it had when backed up
        if (stage / "keys").exists():
            os.chmod(stage / "keys", 0o700)
        _fsync_tree(stage)

        if force:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = data_dir / f"pre-restore-{stamp}"
            victims = [db, *(db.with_name(db.name + s) for s in _SQLITE_COMPANIONS), blobs, settings.keys_dir]
            victims += [data_dir / name for name in DATA_KEYS]
            target = Path(settings.key_passphrase_file).expanduser().resolve()
            if manifest.get("passphrase_file") and not target.is_relative_to(settings.keys_dir.resolve()):
                victims.append(target)
            _move_aside([v for v in victims if v.exists()], aside)
            if aside.exists():
                summary.moved_aside = aside
        db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in _SQLITE_COMPANIONS:  # stale companions would corrupt the copy
            db.with_name(db.name + suffix).unlink(missing_ok=True)
        os.replace(stage / DB_NAME, db)
        _place_dir(stage / "blobs", blobs)
        _place_dir(stage / "keys", settings.keys_dir)
        _place_passphrase(stage, manifest, settings)
        for name in DATA_KEYS:
            if (stage / name).is_file():
                os.replace(stage / name, data_dir / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    summary.files = len(manifest["files"])
    summary.bytes = sum(int(e.get("size", 0)) for e in manifest["files"].values())
    return summary


def _place_passphrase(stage: Path, manifest: dict[str, Any], settings: Settings) -> None:
    """Put the backed-up passphrase file where these settings look for it (mode 0600)."""
    rel = manifest.get("passphrase_file")
    if not rel or settings.key_passphrase:
        return
    target = Path(settings.key_passphrase_file).expanduser().resolve()
    if target.exists():
        return  # it came back with the keys directory
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = stage / rel
    if not staged.exists():  # the keys directory was moved into place, with the file in it
        staged = settings.keys_dir / Path(rel).relative_to("keys")
    shutil.copy2(staged, target)
    os.chmod(target, 0o600)


def _place_dir(staged: Path, target: Path) -> None:
    if not staged.exists():
        return
    if target.exists():
        if any(target.iterdir()):
            raise BackupError(f"{target} is not empty")
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staged), str(target))
