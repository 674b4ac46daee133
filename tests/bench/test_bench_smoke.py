"""Smoke run of the benchmark harness (``python -m bench.run --smoke``): tiny counts, real servers.

Checks that the command runs end to end and that its JSON has every figure, each with its
baseline and a ratio. It checks no performance target: the figures of a smoke run mean nothing.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.postgres import pg_bin

REPO = Path(__file__).resolve().parents[2]

FIGURES = {
    "batch_issuance",
    "single_issuance_p50",
    "single_issuance_p95",
    "v_json_rps_small",
    "v_json_p50_small",
    "v_json_p99_small",
    "v_json_rps_large",
    "v_json_p50_large",
    "v_json_p99_large",
    "verify_rate",
    "e_uscc_p50",
}


def _smoke(tmp_path: Path, *flags: str) -> tuple[dict, str]:
    out = tmp_path / "smoke.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTSVC_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", *flags, "--out", str(out), "--workdir", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    return json.loads(out.read_text()), proc.stdout


def _check(data: dict, stdout: str, tmp_path: Path) -> None:
    assert "error" not in data
    figures = {f["key"]: f for f in data["figures"]}
    assert set(figures) == FIGURES
    for key, f in figures.items():
        for field in ("value", "baseline_value", "ratio"):
            assert isinstance(f[field], int | float) and math.isfinite(f[field]) and f[field] > 0, (key, field, f)
        assert f["baseline"] and f["unit"], key
        assert math.isclose(f["ratio"], f["value"] / f["baseline_value"], rel_tol=1e-9), key
    assert data["baselines"]["A"]["licences_per_s"] > 0
    assert data["baselines"]["A_verify"]["bottom_line"] is True
    assert set(data["baselines"]["B"]) == {"small", "large"}
    verdicts = data["checks"]["batch_sample_verdicts"]
    assert verdicts and all(v == "genuine" for v in verdicts)
    # the genuine uploads under load were answered from the recorded findings, none by a full analysis
    paths = data["raw"]["verify"]["paths"]
    assert paths["fast"] >= data["raw"]["verify"]["requests"] and paths["full"] == len(verdicts)
    assert data["raw"]["batch"]["licences"] == data["meta"]["plan"]["batch_total"]
    assert data["bulk_load"]["large"]["licences_in_db"] >= data["meta"]["plan"]["sizes"][1]
    # the printed table has a row per figure
    assert stdout.count("\n") >= len(FIGURES) + 2
    # every server (process group) the run started is gone, and so is its temporary data directory
    pids = data["meta"]["server_pids"]
    assert len(pids) == 2
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "(zombie)" in Path(f"/proc/{pid}/status").read_text(), pid
    assert not list(tmp_path.glob("certsvc-bench-*")), "the temporary data directory was left behind"


def test_bench_smoke(tmp_path: Path) -> None:
    data, stdout = _smoke(tmp_path)
    _check(data, stdout, tmp_path)
    assert data["meta"]["database"] == "sqlite"


@pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed")
def test_bench_smoke_on_a_throwaway_postgres_cluster(tmp_path: Path) -> None:
    data, stdout = _smoke(tmp_path, "--postgres")
    _check(data, stdout, tmp_path)
    assert data["meta"]["database"] == "postgresql"
