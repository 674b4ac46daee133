"""Bulk loader: grow a certsvc database to N licences by writing rows directly.

Signing a million PDFs would take hours; the public look-ups (``/v/{token}``, ``/e/{uscc}``) only
read rows. So a few *really issued* licences serve as templates: every column of their ``licence``
and ``licence_version`` rows is copied as stored (whatever columns the schema has now), and only
what must be unique or realistic varies — licence id, serial, number, holder USCC, identifier (with
its check character), QR token and its SHA-256 key, status index, PDF hash. Serials and status
indexes are reserved through the service's own counters first, so licences issued later never
collide with loaded ones. Rows are written with ``executemany`` in large transactions.

Loaded licences have no PDF blob (their ``pdf_sha256`` names nothing) and no audit event (the audit
chain stays intact: nothing is inserted into it). Their QR tokens are COSE_Sign1 envelopes like real
ones, naming the row's identifier, holder and status index, with random bytes for a signature: the
public page decodes a token and finds the licence by its identifier, then compares the token with
the one stored, without checking the signature (``POST /verify/qr`` would call them forged).

``python -m bench.bulk_load --database-url sqlite:///DIR/certsvc.db --total 1000000``
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine

from certsvc.identifiers import licence_identifier, make_uscc, parse_licence_identifier
from certsvc.licences.status_index import allocate as allocate_status_indexes
from signing.payload import parse_signed, token_of

_USCC_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def random_uscc(rng: random.Random, prefix: str = "91440300") -> str:
    return make_uscc(prefix, "MA" + "".join(rng.choice(_USCC_BODY) for _ in range(6)))


def engine(url: str) -> Engine:
    eng = create_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=OFF")  # the loader's own transactions only
            cur.execute("PRAGMA cache_size=-1048576")  # 1 GiB page cache: random-key index inserts
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

    return eng


@dataclass
class _Template:
    licence: dict[str, Any]
    version: dict[str, Any]
    type_code: str
    issuer_code: str
    number_prefix: str


@dataclass
class LoadReport:
    inserted: int = 0
    before: int = 0
    after: int = 0
    seconds: float = 0.0
    holder_uscc: str | None = None
    templates: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.inserted / self.seconds if self.seconds else 0.0


def _rows(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    res = conn.execute(text(sql), params or {})
    cols = list(res.keys())
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


def _templates(conn: Connection, limit: int) -> list[_Template]:
    """The first issued licences (lowest version ids: issued before any bulk load), version 1."""
    vers_all = _rows(conn, "SELECT * FROM licence_version WHERE version = 1 ORDER BY id LIMIT :n", {"n": limit})
    out = []
    for ver in vers_all:
        lics = _rows(conn, "SELECT * FROM licence WHERE id = :i", {"i": ver["licence_id"]})
        if not lics:
            continue
        lic = lics[0]
        if conn.dialect.name == "postgresql":  # JSON columns come back as Python objects
            from psycopg.types.json import Json

            lic = {k: Json(v) if isinstance(v, dict | list) else v for k, v in lic.items()}
            ver = {k: Json(v) if isinstance(v, dict | list) else v for k, v in ver.items()}
        ident = parse_licence_identifier(ver["identifier"])
        serial_txt = f"{int(lic['serial']):08d}"
        if not str(lic["number"]).endswith(serial_txt):
            continue
        out.append(_Template(lic, ver, ident.type_code, ident.issuer_code, str(lic["number"])[: -len(serial_txt)]))
    if not out:
        raise RuntimeError("no issued licence to copy: issue at least one licence (version 1) first")
    return out


def _reserve(conn: Connection, name: str, count: int) -> int:
    """Reserve ``count`` values of a service counter (same SQL as certsvc.db.counters); the first."""
    conn.execute(text("INSERT INTO counter (name, value) VALUES (:n, 0) ON CONFLICT (name) DO NOTHING"), {"n": name})
    value = conn.execute(
        text("UPDATE counter SET value = value + :c WHERE name = :n RETURNING value"), {"n": name, "c": count}
    ).scalar_one()
    return int(value) - count + 1


def count_licences(eng: Engine) -> int:
    with eng.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM licence")).scalar_one())


def _placeholder(eng: Engine) -> str:
    return "?" if eng.dialect.paramstyle == "qmark" else "%s"


def bulk_load(
    url: str,
    count: int,
    *,
    holder_uscc: str | None = None,
    holders: int | None = None,
    chunk: int = 50_000,
    seed: int | None = None,
    templates: int = 20,
    progress: bool = False,
) -> LoadReport:
    """Insert ``count`` licences (version 1, valid) copied from real ones.

    ``holder_uscc`` gives them all to one holder (an enterprise holding ``count`` licences);
    otherwise they are spread over ``holders`` random holders (default: about 5 licences each).
    """
    rng = random.Random(seed if seed is not None else int.from_bytes(os.urandom(8), "big"))
    eng = engine(url)
    report = LoadReport(holder_uscc=holder_uscc)
    t0 = time.perf_counter()
    try:
        report.before = count_licences(eng)
        if count <= 0:
            report.after = report.before
            return report
        with eng.begin() as conn:
            tmpls = _templates(conn, templates)
        report.templates = len(tmpls)
        # All templates issued by the same licence type share one serial counter; group by type.
        by_type: dict[Any, list[_Template]] = {}
        for t in tmpls:
            by_type.setdefault(t.licence["licence_type_id"], []).append(t)
        type_ids = list(by_type)
        pool = [holder_uscc] if holder_uscc else [random_uscc(rng) for _ in range(max(1, holders or count // 5))]
        lic_cols = list(tmpls[0].licence)
        ver_cols = [c for c in tmpls[0].version if c != "id"]  # autoincrement key: left to the database
        ph = _placeholder(eng)
        lic_sql = f"INSERT INTO licence ({', '.join(lic_cols)}) VALUES ({', '.join([ph] * len(lic_cols))})"
        ver_sql = f"INSERT INTO licence_version ({', '.join(ver_cols)}) VALUES ({', '.join([ph] * len(ver_cols))})"
        signed = {id(t): parse_signed(str(t.version["qr_payload"])) for t in tmpls}
        done = 0
        while done < count:
            n = min(chunk, count - done)
            per_type = {tid: n // len(type_ids) + (1 if i < n % len(type_ids) else 0) for i, tid in enumerate(type_ids)}
            with eng.begin() as conn:
                indexes = allocate_status_indexes(conn, n)  # shuffled, as the service allocates them
                lic_rows: list[tuple[Any, ...]] = []
                ver_rows: list[tuple[Any, ...]] = []
                k = 0
                for tid, m in per_type.items():
                    if m == 0:
                        continue
                    serial0 = _reserve(conn, f"serial:{tid}", m)
                    group = by_type[tid]
                    for j in range(m):
                        t = group[j % len(group)]
                        serial = serial0 + j
                        lic_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
                        holder = pool[rng.randrange(len(pool))]
                        lic = dict(t.licence)
                        lic.update(
                            id=lic_id,
                            serial=serial,
                            number=f"{t.number_prefix}{serial:08d}",
                            holder_uscc=holder,
                            current_version=1,
                            state="valid",
                            state_reason=None,
                            revoke_kind=None,
                        )
                        identifier = licence_identifier(t.type_code, t.issuer_code, serial, 1)
                        claims = dataclasses.replace(
                            signed[id(t)].claims,
                            identifier=identifier,
                            holder_uscc=holder,
                            status_index=indexes[k],
                        )
                        sig = bytes([rng.randrange(1, 255)]) + rng.randbytes(31)  # 0 < r, s < n
                        sig += bytes([rng.randrange(1, 255)]) + rng.randbytes(31)
                        token = token_of(signed[id(t)].protected, claims, sig)
                        ver = dict(t.version)
                        ver.update(
                            licence_id=lic_id,
                            version=1,
                            identifier=identifier,
                            qr_token=hashlib.sha256(token.encode()).hexdigest(),
                            qr_payload=token,
                            status_index=indexes[k],
                            pdf_sha256=rng.randbytes(32).hex(),
                            superseded_at=None,
                        )
                        lic_rows.append(tuple(lic[c] for c in lic_cols))
                        ver_rows.append(tuple(ver[c] for c in ver_cols))
                        k += 1
                conn.exec_driver_sql(lic_sql, lic_rows)
                conn.exec_driver_sql(ver_sql, ver_rows)
            done += n
            if progress:
                rate = done / (time.perf_counter() - t0)
                print(f"  bulk load: {done:,}/{count:,} licences ({rate:,.0f}/s)", file=sys.stderr, flush=True)
        if url.startswith("sqlite"):
            with eng.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        report.inserted = count
        report.after = count_licences(eng)
    finally:
        report.seconds = time.perf_counter() - t0
        eng.dispose()
    return report


def grow_to(url: str, total: int, **kwargs: Any) -> LoadReport:
    """Bulk-load as many licences as needed for ``total`` in the database (none if already there)."""
    eng = engine(url)
    try:
        have = count_licences(eng)
    finally:
        eng.dispose()
    return bulk_load(url, max(0, total - have), **kwargs)


def sample_tokens(url: str, n: int, *, holder_uscc: str | None = None, seed: int = 1) -> list[str]:
    """``n`` QR tokens of random licences (current versions), for the public page."""
    eng = engine(url)
    try:
        with eng.connect() as conn:
            total = int(conn.execute(text("SELECT max(id) FROM licence_version")).scalar_one() or 0)
            rng = random.Random(seed)
            ids = sorted({rng.randint(1, total) for _ in range(n * 2)}) if total else []
            out: list[str] = []
            step = 5000
            for i in range(0, len(ids), step):
                part = ids[i : i + step]
                binds = ", ".join(str(int(x)) for x in part)
                sql = f"SELECT qr_payload FROM licence_version WHERE id IN ({binds})"
                out += [r[0] for r in conn.execute(text(sql))]
            rng.shuffle(out)
            return out[:n]
    finally:
        eng.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bulk_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", required=True, help="e.g. sqlite:///certsvc-data/certsvc.db")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--count", type=int, help="licences to add")
    g.add_argument("--total", type=int, help="licences to have in the database")
    p.add_argument("--holder-uscc", help="give every loaded licence to this holder")
    p.add_argument("--chunk", type=int, default=50_000, help="rows per transaction")
    args = p.parse_args(argv)
    kw = {"holder_uscc": args.holder_uscc, "chunk": args.chunk, "progress": True}
    rep = (
        grow_to(args.database_url, args.total, **kw)
        if args.total is not None
        else bulk_load(args.database_url, args.count, **kw)
    )
    print(
        f"inserted {rep.inserted:,} licences in {rep.seconds:.1f} s ({rep.rows_per_s:,.0f}/s); "
        f"{rep.before:,} → {rep.after:,} in the database"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
