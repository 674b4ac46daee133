"""One table for ``python -m bench.run --both``: every figure on SQLite and on PostgreSQL, each
beside its baseline measured in the same run on the same database."""

from __future__ import annotations

import math
from typing import Any


def _cell(f: dict[str, Any] | None) -> tuple[str, str]:
    if f is None:
        return "-", "-"
    unit = f["unit"]
    value = f"{f['value']:.1f} ms" if unit == "ms" else f"{f['value']:,.1f} {unit}"
    base = f"{f['baseline_value']:.1f} ms" if unit == "ms" else f"{f['baseline_value']:,.1f}"
    ratio = "-" if math.isnan(f["ratio"]) else f"{f['ratio']:.2f}x"
    met = {True: " yes", False: " NO"}.get(f.get("met"), "")
    return value, f"{base} ({ratio}{met})"


def both_table(sqlite: dict[str, Any], postgres: dict[str, Any]) -> str:
    """Figure | SQLite value | its baseline (ratio, target met) | PostgreSQL value | its baseline (…) | target."""
    by_db = [{f["key"]: f for f in r.get("figures", [])} for r in (sqlite, postgres)]
    keys = list(by_db[0]) + [k for k in by_db[1] if k not in by_db[0]]
    rows = [("figure", "SQLite", "baseline (ratio)", "PostgreSQL", "baseline (ratio)", "target")]
    for key in keys:
        s, p = by_db[0].get(key), by_db[1].get(key)
        any_f = s or p
        assert any_f is not None
        rows.append((any_f["name"].split(" (")[0], *_cell(s), *_cell(p), any_f.get("target", "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for name, r in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        if r.get("error"):
            lines.append(f"{name} run failed: {r['error']}")
    return "\n".join(lines)
