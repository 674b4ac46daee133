"""certsvc benchmark: ``python -m bench.run [--quick | --smoke] [--out bench/results/NAME.json]``.

Starts ``certsvc serve`` (fresh data directory, SQLite unless ``--database-url``) and baseline B as
subprocesses on 127.0.0.1, runs the baselines in this process, measures every figure over HTTP,
prints a table (each figure beside its baseline, as a ratio) and writes JSON. All load is bounded
in requests and seconds; every server started here is stopped at the end, also on errors.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import baselines
from bench.bulk_load import bulk_load, grow_to, sample_tokens
from bench.load import have_wrk, latency_summary, run_load, sequential_latency, wrk_version
from bench.pyspy import ISSUE, LOOKUP, VERIFY
from bench.server import CpuMeter, Server, certsvc_argv, clean_env, free_port, install_signal_handlers, stop_all
from certsvc.demo import FOOD_LICENCE_TYPE

REPO = Path(__file__).resolve().parent.parent
DEPT = {"name": "深圳市卫生健康委员会", "uscc": "11440300MB2C92042M", "code": "SZWJ"}
LICENCE_TYPE = FOOD_LICENCE_TYPE
JSON_ACCEPT = {"Accept": "application/json"}


@dataclass(frozen=True)
class Plan:
    mode: str
    single: int  # sequential POST /licences
    batch_total: int  # licences through POST /licences:batch
    batch_size: int
    sizes: tuple[int, int]  # licences in the database for the two /v/{token} runs
    enterprise_licences: int  # held by one enterprise, for /e/{uscc}
    a_n: int  # baseline A iterations (or a_s seconds)
    a_s: float
    av_n: int  # baseline A-verify iterations
    av_s: float
    verify_requests: int
    verify_seconds: float
    verify_conns: int
    v_requests: int
    v_seconds: float
    v_conns: int
    e_requests: int
    tokens: int  # distinct QR tokens the /v/ load picks from


PLANS = {
    "full": Plan(
        "full",
        200,
        5000,
        100,
        (10_000, 1_000_000),
        1000,
        200,
        40.0,
        100,
        30.0,
        5000,
        20.0,
        3,
        500_000,
        15.0,
        8,
        30,
        5000,
    ),
    "quick": Plan(
        "quick", 30, 200, 100, (1_000, 10_000), 1000, 30, 10.0, 20, 8.0, 1000, 8.0, 3, 200_000, 5.0, 8, 10, 1000
    ),
    "smoke": Plan("smoke", 5, 20, 100, (100, 1_000), 50, 3, 5.0, 3, 5.0, 20, 1.0, 2, 200, 1.0, 4, 5, 100),
}

# Targets of issues 6 and 18 (on the 2-core machine), on either database: what each figure is checked against.
TARGETS: dict[str, tuple[str, Any]] = {
    "batch_issuance": (">= 5x baseline A", lambda f: f["ratio"] >= 5),
    "single_issuance_p50": ("<= 40 ms", lambda f: f["value"] <= 40),
    "v_json_rps_large": (">= 0.6x baseline B", lambda f: f["ratio"] >= 0.6),
    "v_json_p99_large": ("<= 2x baseline B's p99", lambda f: f["ratio"] <= 2),
    "verify_rate": (">= 10x baseline A-verify", lambda f: f["ratio"] >= 10),
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def holder_uscc(rng: random.Random) -> str:
    from certsvc.identifiers import make_uscc

    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return make_uscc("91440300", "MA" + "".join(rng.choice(alphabet) for _ in range(6)))


def licence_body(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "licence_type": LICENCE_TYPE["code"],
        "holder_uscc": holder_uscc(rng),
        "holder_name": f"深圳市鹏城餐饮管理有限公司第{i}分店",
        "fields": {
            "经营场所": f"深圳市南山区科技园路{i % 300 + 1}号",
            "主体业态": "餐饮服务经营者",
            "经营项目": "热食类食品制售；冷食类食品制售；自制饮品制售",
        },
    }


def _meta(plan: Plan, args: argparse.Namespace) -> dict[str, Any]:
    def ver(pkg: str) -> str | None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(pkg)
        except PackageNotFoundError:
            return None

    git = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        )
        git = {"head": head.stdout.strip(), "modified_files": dirty.stdout.split()[1::2]}
    cpu_model = ""
    with contextlib.suppress(OSError):
        cpu_model = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "",
        )
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": plan.mode,
        "plan": asdict(plan),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_model": cpu_model,
            "platform": platform.platform(),
            "loadavg_at_start": os.getloadavg(),
        },
        "python": sys.version.split()[0],
        "packages": {
            p: ver(p)
            for p in ("pyhanko", "fastapi", "uvicorn", "uvloop", "httptools", "reportlab", "sqlalchemy", "pydantic")
        },
        "load_client": args.client if args.client != "auto" else ("wrk" if have_wrk() else "httpx"),
        "wrk": wrk_version(),
        "git": git,
        "server_env": dict(args.server_env),
        "batch_concurrency": args.batch_concurrency,
    }


def _department_add(env: dict[str, str]) -> tuple[str, int]:
    out = subprocess.run(
        certsvc_argv("department", "add", "--name", DEPT["name"], "--uscc", DEPT["uscc"], "--code", DEPT["code"]),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"certsvc department add failed: {out.stdout[-1500:]} {out.stderr[-1500:]}")
    lines = out.stdout.strip().splitlines()
    m = re.search(r"id (\d+)\)", out.stdout)
    return lines[-1].strip(), int(m.group(1)) if m else 1


def _uvicorn_options(server: Server) -> dict[str, Any] | None:
    for line in server.log_path.read_text(errors="replace").splitlines():
        if line.startswith("BENCH_UVICORN_OPTIONS "):
            return json.loads(line.split(" ", 1)[1])
    return None


def _multipart(name: str, filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = "bench" + secrets.token_hex(12)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _verify_paths(client: httpx.Client) -> dict[str, float]:
    """``certsvc_verify_paths_total`` by path, from the server's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["path"]: sample.value
        for fam in text_string_to_metric_families(client.get("/metrics").text)
        for sample in fam.samples
        if sample.name == "certsvc_verify_paths_total"
    }


def _figure(
    key: str, name: str, value: float, unit: str, baseline: str, baseline_value: float, better: str, **details: Any
) -> dict[str, Any]:
    ratio = value / baseline_value if baseline_value and not math.isnan(baseline_value) else math.nan
    f = {
        "key": key,
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": ratio,
        "better": better,
        "details": details,
    }
    if key in TARGETS:
        text, check = TARGETS[key]
        f["target"] = text
        f["met"] = bool(check(f))
    return f


class Bench:
    def __init__(self, plan: Plan, args: argparse.Namespace, work: Path) -> None:
        self.plan = plan
        self.args = args
        self.work = work
        self.rng = random.Random(args.seed)
        self.results: dict[str, Any] = {
            "meta": _meta(plan, args),
            "baselines": {},
            "figures": [],
            "phases": {},
            "checks": {},
            "profiles": {},
        }
        self.servers: list[Server] = []

    # --- helpers -------------------------------------------------------------------------

    @contextlib.contextmanager
    def phase(
        self, name: str, spy: str | None = None, stages: dict[str, tuple[str, ...]] | None = None
    ) -> Iterator[CpuMeter]:
        """Measure a phase's CPU use (and, with --py-spy and a ``spy`` key, sample the server)."""
        log(name)
        meter = CpuMeter(self.servers)
        recorder = None
        if spy and self.args.py_spy:
            from bench.pyspy import PySpy

            recorder = PySpy(self.certsvc.pid or 0, self.work / f"pyspy-{spy}.txt")
        with meter, recorder or contextlib.nullcontext():
            yield meter
        self.results["phases"][name] = meter.result
        if recorder is not None:
            from bench.pyspy import summarise

            if recorder.out.exists():
                self.results["profiles"][spy] = summarise(recorder.out, stages or {})
                db = "pg" if self.args.database_url else "sqlite"
                shutil.copy(recorder.out, Path(self.args.out).with_suffix(f".{db}-pyspy-{spy}.txt"))
            else:
                self.results["profiles"][spy] = {"error": recorder.error}

    def server_cpu_ms(self, meter: CpuMeter, items: int) -> float:
        """certsvc's CPU milliseconds (all its processes) per item of a phase."""
        return 1000 * meter.result["server_cpu_s"]["certsvc"] / items if items else math.nan

    def load(self, base_url: str, paths: list[str], **kw: Any) -> dict[str, Any]:
        res = run_load(base_url, paths, client=self.args.client, workdir=self.work, **kw)
        d = res.to_dict()
        if res.failed:
            raise RuntimeError(f"load on {paths[0][:60]}… had errors: {res.errors}")
        return d

    # --- the run -------------------------------------------------------------------------

    def run(self) -> None:
        plan, args, work = self.plan, self.args, self.work
        data_dir = work / "certsvc-data"
        port, port_b = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        db_url = args.database_url or f"sqlite:///{data_dir / 'certsvc.db'}"
        env = clean_env(
            {
                "CERTSVC_DATA_DIR": str(data_dir),
                "CERTSVC_KEY_PASSPHRASE": "bench-passphrase",
                "CERTSVC_PUBLIC_BASE_URL": base,
                # the load generator is one client address: lift the per-address upload limits
                "CERTSVC_UPLOADS_PER_CLIENT": "64",
                "CERTSVC_UPLOADS_PER_MINUTE": "1000000",
                **dict(args.server_env),
            }
        )
        if args.database_url:
            env["CERTSVC_DATABASE_URL"] = args.database_url
        env_b = clean_env(
            {
                "CERTSVC_DATA_DIR": str(work / "baseline-b-data"),
                "CERTSVC_KEY_PASSPHRASE": "bench",
                "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            }
        )

        log("certsvc department add")
        key, dept_id = _department_add(env)
        dept = {**DEPT, "id": dept_id}
        log(f"starting certsvc on {base} and baseline B on :{port_b}")
        certsvc = Server("certsvc", certsvc_argv("serve", "--port", str(port)), env, port, work / "certsvc.log")
        bare = Server(
            "baseline-B",
            [sys.executable, "-m", "bench.bare_app", "--port", str(port_b)],
            env_b,
            port_b,
            work / "baseline-b.log",
        )
        self.certsvc, self.bare = certsvc, bare
        certsvc.start()
        self.servers.append(certsvc)
        bare.start()
        self.servers.append(bare)
        self.results["meta"]["uvicorn_options_certsvc_serve"] = _uvicorn_options(bare)
        self.results["meta"]["server_pids"] = [certsvc.pid, bare.pid]

        auth = {"Authorization": f"Bearer {key}"}
        client = httpx.Client(base_url=base, headers=auth, timeout=httpx.Timeout(900.0, connect=10.0))
        self.client = client
        r = client.post("/api/v1/licence-types", json=LICENCE_TYPE)
        if r.status_code != 201:
            raise RuntimeError(f"POST /licence-types: {r.status_code} {r.text[:500]}")

        # cold start: the first issuance pays for fonts, keys and imports
        cold = []
        first = None
        for i in range(3):
            t0 = time.perf_counter()
            r = client.post("/api/v1/licences", json=licence_body(self.rng, i))
            cold.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 201:
                raise RuntimeError(f"POST /licences: {r.status_code} {r.text[:500]}")
            first = first or r.json()
        self.results["checks"]["warmup_issuance_ms"] = cold

        # baseline A: the naive pyHanko loop over the same unsigned PDF, in this process
        assert first is not None
        with self.phase("baseline A: pyHanko sign_pdf loop") as m:
            pdf = baselines.licence_pdf(first, dept, LICENCE_TYPE["name"], [f["name"] for f in LICENCE_TYPE["fields"]])
            signer = baselines.make_signer(work / "baseline-keys")
            a = baselines.baseline_a(pdf, signer, n=plan.a_n, max_seconds=plan.a_s)
        a["cpu"] = m.result
        self.results["baselines"]["A"] = a

        # single issuance latency
        with self.phase(f"single issuance: {plan.single} sequential POST /api/v1/licences", "single", ISSUE) as m:
            ms = []
            for i in range(plan.single):
                t0 = time.perf_counter()
                r = client.post("/api/v1/licences", json=licence_body(self.rng, 1000 + i))
                ms.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 201:
                    raise RuntimeError(f"POST /licences: {r.status_code} {r.text[:500]}")
        single = latency_summary(ms)
        single["server_cpu_ms_per_licence"] = self.server_cpu_ms(m, len(ms))

        # batch issuance
        calls = math.ceil(plan.batch_total / plan.batch_size)
        with self.phase(
            f"batch issuance: {plan.batch_total} licences, {calls} x POST /api/v1/licences:batch", "batch", ISSUE
        ) as m:
            t_batch = time.perf_counter()
            batch_ids, failed, call_ms = self._batches(client, calls)
            batch_s = time.perf_counter() - t_batch
        if failed:
            raise RuntimeError(f"batch issuance: {failed} items failed")
        batch_rate = len(batch_ids) / batch_s
        batch_cpu_ms = self.server_cpu_ms(m, len(batch_ids))

        # verification of genuine licences
        sample = self.rng.sample(batch_ids, min(3, len(batch_ids)))
        pdfs = []
        for lid in sample:
            r = client.get(f"/api/v1/licences/{lid}/pdf")
            r.raise_for_status()
            pdfs.append(r.content)
        verdicts = []
        for data in pdfs:
            r = client.post("/api/v1/verify", files={"file": ("licence.pdf", data, "application/pdf")})
            r.raise_for_status()
            verdicts.append(r.json().get("verdict"))
        self.results["checks"]["batch_sample_verdicts"] = verdicts
        root_pem = client.get("/api/v1/trust-list").json()["root"]
        with self.phase("baseline A-verify: pyHanko validate_pdf_signature loop") as m:
            av = baselines.baseline_verify(pdfs[0], root_pem, n=plan.av_n, max_seconds=plan.av_s)
        av["cpu"] = m.result
        self.results["baselines"]["A_verify"] = av
        body, ctype = _multipart("file", "licence.pdf", pdfs[0], "application/pdf")
        with self.phase(f"POST /api/v1/verify, {plan.verify_conns} connections", "verify", VERIFY) as m:
            ver = self.load(
                base,
                ["/api/v1/verify"],
                method="POST",
                headers={"Content-Type": ctype, **JSON_ACCEPT},
                body=body,
                connections=plan.verify_conns,
                max_requests=plan.verify_requests,
                max_seconds=plan.verify_seconds,
                timeout_s=30.0,
            )
        ver["cpu"] = m.result
        ver["server_cpu_ms_per_request"] = self.server_cpu_ms(m, ver["requests"])
        ver["paths"] = _verify_paths(client)  # how the uploads were answered (fast: recorded findings)

        # public look-ups at two database sizes
        ent = holder_uscc(self.rng)
        v_runs: dict[str, Any] = {}
        b_runs: dict[str, Any] = {}
        e_runs: dict[str, Any] = {}
        loads: dict[str, Any] = {}
        for stage, size in zip(("small", "large"), plan.sizes, strict=True):
            with self.phase(f"bulk load to {size:,} licences"):
                parts = []
                if stage == "large":
                    parts.append(bulk_load(db_url, plan.enterprise_licences, holder_uscc=ent))
                parts.append(grow_to(db_url, size, progress=size >= 100_000))
            loads[stage] = {
                "inserted": sum(p.inserted for p in parts),
                "seconds": sum(p.seconds for p in parts),
                "rows_per_s": sum(p.inserted for p in parts) / max(1e-9, sum(p.seconds for p in parts)),
                "licences_in_db": parts[-1].after,
            }
            tokens = sample_tokens(db_url, plan.tokens, seed=len(loads))
            paths = [f"/v/{t}" for t in tokens]
            r = httpx.get(base + paths[0], headers=JSON_ACCEPT, timeout=30)
            if r.status_code != 200 or r.json().get("genuine") is not True:
                raise RuntimeError(f"/v/ check: {r.status_code} {r.text[:300]}")
            with self.phase(f"baseline B: GET /const, {plan.v_conns} connections") as m:
                b = self.load(
                    bare.base_url,
                    ["/const"],
                    headers=JSON_ACCEPT,
                    connections=plan.v_conns,
                    max_requests=plan.v_requests,
                    max_seconds=plan.v_seconds,
                )
            b["cpu"] = m.result
            b["server_cpu_ms_per_request"] = 1000 * m.result["server_cpu_s"]["baseline-B"] / max(1, b["requests"])
            with self.phase(
                f"GET /v/{{token}} JSON at {parts[-1].after:,} licences, {plan.v_conns} connections",
                f"v_{stage}",
                LOOKUP,
            ) as m:
                v = self.load(
                    base,
                    paths,
                    headers=JSON_ACCEPT,
                    connections=plan.v_conns,
                    max_requests=plan.v_requests,
                    max_seconds=plan.v_seconds,
                )
            v["cpu"] = m.result
            v["server_cpu_ms_per_request"] = self.server_cpu_ms(m, v["requests"])
            v["licences_in_db"] = parts[-1].after
            v_runs[stage], b_runs[stage] = v, b
            if stage == "large":
                r = httpx.get(f"{base}/e/{ent}", headers=JSON_ACCEPT, timeout=120)
                if r.status_code != 200 or r.json().get("count") != plan.enterprise_licences:
                    raise RuntimeError(f"/e/ check: {r.status_code} count={r.json().get('count')!r}")
                with self.phase(
                    f"GET /e/{{uscc}} JSON, holder of {plan.enterprise_licences} licences, sequential", "e", LOOKUP
                ) as m:
                    with httpx.Client(base_url=base, timeout=120) as c:
                        e_runs["certsvc"] = sequential_latency(
                            c, f"/e/{ent}", plan.e_requests, headers=JSON_ACCEPT, max_seconds=120
                        )
                e_runs["certsvc"]["server_cpu_ms_per_request"] = self.server_cpu_ms(m, e_runs["certsvc"]["n"])
                e_runs["certsvc"]["response_bytes"] = len(r.content)
                with self.phase("baseline B: sequential GET /const"):
                    with httpx.Client(base_url=bare.base_url, timeout=30) as c:
                        e_runs["baseline_B"] = sequential_latency(
                            c, "/const", max(50, plan.e_requests), headers=JSON_ACCEPT
                        )
        self.results["bulk_load"] = loads
        self.results["baselines"]["B"] = b_runs
        batch_raw = {
            "licences": len(batch_ids),
            "seconds": batch_s,
            "calls": calls,
            "call_ms": latency_summary(call_ms),
        }
        self.results["raw"] = {"single_issuance": single, "batch": batch_raw, "verify": ver, "v": v_runs, "e": e_runs}

        # figures, each beside its baseline
        figs = self.results["figures"]
        a_rate = a["licences_per_s"]
        figs.append(
            _figure(
                "batch_issuance",
                f"batch issuance ({len(batch_ids)} via :batch x{plan.batch_size})",
                batch_rate,
                "licences/s",
                "A pyHanko sign_pdf loop",
                a_rate,
                "higher",
                seconds=batch_s,
                calls=calls,
                server_cpu_ms_per_licence=batch_cpu_ms,
                baseline_cpu_ms_per_licence=a["cpu_ms_per_item"],
            )
        )
        figs.append(
            _figure(
                "single_issuance_p50",
                f"single issuance p50 ({plan.single} sequential POST)",
                single["p50_ms"],
                "ms",
                "A per-signature p50",
                a["p50_ms"],
                "lower",
                server_cpu_ms_per_licence=single["server_cpu_ms_per_licence"],
            )
        )
        figs.append(
            _figure(
                "single_issuance_p95",
                "single issuance p95",
                single["p95_ms"],
                "ms",
                "A per-signature p95",
                a["p95_ms"],
                "lower",
            )
        )
        for stage in ("small", "large"):
            v, b = v_runs[stage], b_runs[stage]
            n = f"{v['licences_in_db']:,}"
            figs.append(
                _figure(
                    f"v_json_rps_{stage}",
                    f"/v/{{token}} JSON req/s @ {n} licences",
                    v["rps"],
                    "req/s",
                    "B bare FastAPI req/s",
                    b["rps"],
                    "higher",
                    connections=v["connections"],
                    server_cpu_ms_per_request=v["server_cpu_ms_per_request"],
                    baseline_cpu_ms_per_request=b["server_cpu_ms_per_request"],
                )
            )
            figs.append(
                _figure(
                    f"v_json_p50_{stage}",
                    f"/v/{{token}} JSON p50 @ {n}",
                    v["p50_ms"],
                    "ms",
                    "B p50",
                    b["p50_ms"],
                    "lower",
                )
            )
            figs.append(
                _figure(
                    f"v_json_p99_{stage}",
                    f"/v/{{token}} JSON p99 @ {n}",
                    v["p99_ms"],
                    "ms",
                    "B p99",
                    b["p99_ms"],
                    "lower",
                )
            )
        figs.append(
            _figure(
                "verify_rate",
                f"POST /verify genuine upload ({plan.verify_conns} conns)",
                ver["rps"],
                "verifications/s",
                "A-verify pyHanko validate loop",
                av["verifications_per_s"],
                "higher",
                p50_ms=ver["p50_ms"],
                p99_ms=ver["p99_ms"],
                server_cpu_ms_per_request=ver["server_cpu_ms_per_request"],
                baseline_cpu_ms_per_item=av["cpu_ms_per_item"],
            )
        )
        figs.append(
            _figure(
                "e_uscc_p50",
                f"/e/{{uscc}} JSON p50, {plan.enterprise_licences} licences held",
                e_runs["certsvc"]["p50_ms"],
                "ms",
                "B sequential p50",
                e_runs["baseline_B"]["p50_ms"],
                "lower",
                licences_in_db=v_runs["large"]["licences_in_db"],
                server_cpu_ms_per_request=e_runs["certsvc"]["server_cpu_ms_per_request"],
            )
        )

    def _batches(self, client: httpx.Client, calls: int) -> tuple[list[str], int, list[float]]:
        plan = self.plan
        bodies = []
        n = 0
        for _ in range(calls):
            size = min(plan.batch_size, plan.batch_total - n)
            bodies.append({"items": [licence_body(self.rng, 10_000 + n + j) for j in range(size)]})
            n += size
        ids: list[str] = []
        failed = 0
        call_ms: list[float] = []

        def send(body: dict[str, Any]) -> tuple[list[dict[str, Any]], float]:
            t0 = time.perf_counter()
            r = client.post("/api/v1/licences:batch", json=body)
            took = (time.perf_counter() - t0) * 1000
            if r.status_code != 200:
                raise RuntimeError(f"POST /licences:batch: {r.status_code} {r.text[:500]}")
            return r.json()["results"], took

        if self.args.batch_concurrency <= 1:
            outs = [send(b) for b in bodies]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(self.args.batch_concurrency) as ex:
                outs = list(ex.map(send, bodies))
        for results, took in outs:
            call_ms.append(took)
            for item in results:
                if item.get("ok", "id" in item) and item.get("id"):
                    ids.append(item["id"])
                else:
                    failed += 1
        return ids, failed, call_ms


# --- output --------------------------------------------------------------------------------


def _fmt(v: Any, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if unit == "ms":
        return f"{v:.1f} ms"
    if isinstance(v, float):
        return f"{v:,.1f}" if v < 10_000 else f"{v:,.0f}"
    return str(v)


def table(results: dict[str, Any]) -> str:
    rows = [("figure", "value", "baseline", "baseline value", "ratio", "target", "met")]
    for f in results.get("figures", []):
        unit = f["unit"]
        value = _fmt(f["value"], unit) if unit == "ms" else f"{_fmt(f['value'])} {unit}"
        basev = _fmt(f["baseline_value"], unit) if unit == "ms" else _fmt(f["baseline_value"])
        ratio = "-" if math.isnan(f["ratio"]) else f"{f['ratio']:.2f}x ({f['better']} is better)"
        met = {True: "yes", False: "NO"}.get(f.get("met"), "")
        rows.append((f["name"], value, f["baseline"], basev, ratio, f.get("target", ""), met))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    meta = results.get("meta", {})
    machine = meta.get("machine", {})
    base = results.get("baselines", {})
    foot = [
        "",
        f"mode {meta.get('mode')}; {machine.get('cpus')} CPUs ({machine.get('cpu_model')});"
        f" load client {meta.get('load_client')}; loadavg at start {machine.get('loadavg_at_start')}",
    ]
    if "A" in base:
        foot.append(
            f"baseline A: {base['A']['licences_per_s']:.1f} licences/s (p50 {base['A']['p50_ms']:.1f} ms, "
            f"n={base['A']['n']})"
        )
    if "A_verify" in base:
        foot.append(
            f"baseline A-verify: {base['A_verify']['verifications_per_s']:.1f} verifications/s "
            f"(p50 {base['A_verify']['p50_ms']:.1f} ms)"
        )
    cpu_rows = []
    for f in results.get("figures", []):
        d = f.get("details", {})
        mine = d.get("server_cpu_ms_per_licence", d.get("server_cpu_ms_per_request"))
        theirs = d.get(
            "baseline_cpu_ms_per_licence", d.get("baseline_cpu_ms_per_request", d.get("baseline_cpu_ms_per_item"))
        )
        if mine is not None:
            extra = f"  (baseline {theirs:.2f} ms, {mine / theirs:.2f}x)" if theirs else ""
            cpu_rows.append(f"  {f['name']}: {mine:.2f} ms{extra}")
    if cpu_rows:
        foot.append("server CPU per item, all certsvc processes (less sensitive to other load than rates):")
        foot += cpu_rows
    for name, prof in results.get("profiles", {}).items():
        stages = prof.get("stages_inclusive_pct") or {}
        if stages:
            top = ", ".join(f"{k} {v}%" for k, v in stages.items())
            mods = ", ".join(f"{k} {v}%" for k, v in list((prof.get("by_module_self_pct") or {}).items())[:8])
            foot.append(
                f"py-spy {name} ({prof.get('samples')} samples): on the stack: {top}; outside service "
                f"code {prof.get('outside_service_code_pct')}%; self time by module: {mods}"
            )
    other = [
        f"{k}: other load {v['other_cores']} cores"
        for k, v in results.get("phases", {}).items()
        if isinstance(v, dict) and v.get("other_cores", 0) >= 0.2
    ]
    if other:
        foot.append(f"CPU used by other work on the machine during phases (cores out of {machine.get('cpus')}):")
        foot += [f"  {o}" for o in other]
    return "\n".join(lines + foot)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", const="quick", dest="mode", help="small counts (minutes)")
    mode.add_argument("--smoke", action="store_const", const="smoke", dest="mode", help="tiny counts (CI, seconds)")
    p.set_defaults(mode="full")
    p.add_argument("--out", help="JSON file to write (default bench/results/<mode>-<time>.json)")
    p.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto", help="load generator")
    p.add_argument("--database-url", help="run certsvc on this database instead of a fresh SQLite file")
    p.add_argument(
        "--postgres", action="store_true", help="run certsvc on a throw-away PostgreSQL cluster started for the run"
    )
    p.add_argument(
        "--both",
        action="store_true",
        help="run on SQLite, then on a throw-away PostgreSQL cluster; one table with both (JSON: both runs)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="CERTSVC_X=VALUE",
        type=lambda s: tuple(s.split("=", 1)),
        help="extra environment for the certsvc server",
    )
    p.add_argument("--batch-concurrency", type=int, default=1, help="batch calls in flight at once (default 1)")
    p.add_argument("--batch-total", type=int, help="licences to issue by batch (overrides the mode's count)")
    p.add_argument("--single", type=int, help="sequential single issuances (overrides the mode's count)")
    p.add_argument("--py-spy", action="store_true", help="sample the server with py-spy during batch issuance")
    p.add_argument("--seed", type=int, default=None, help="random seed (holders, tokens)")
    p.add_argument("--keep", action="store_true", help="keep the temporary data directory and server logs")
    p.add_argument("--workdir", help="parent directory for the temporary data directory")
    args = p.parse_args(argv)
    for kv in args.server_env:
        if len(kv) != 2:
            p.error("--server-env takes KEY=VALUE")
    return args


def run_once(plan: Plan, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    """One run of the bench on ``args.database_url`` (or a fresh SQLite file): its results and exit status."""
    work = Path(tempfile.mkdtemp(prefix="certsvc-bench-", dir=args.workdir))
    bench = Bench(plan, args, work)
    status = 0
    t0 = time.perf_counter()
    try:
        bench.run()
    except (Exception, KeyboardInterrupt) as e:
        status = 130 if isinstance(e, KeyboardInterrupt) else 1
        bench.results["error"] = f"{type(e).__name__}: {e}"
        traceback.print_exc()
        for s in bench.servers:
            print(f"--- {s.name} log tail ({s.log_path}) ---\n{s.log_tail()}", file=sys.stderr)
    finally:
        if getattr(bench, "client", None) is not None:
            bench.client.close()
        stop_all()
        bench.results["meta"]["database"] = "postgresql" if args.database_url else "sqlite"
        bench.results["meta"]["seconds"] = round(time.perf_counter() - t0, 1)
        bench.results["meta"]["loadavg_at_end"] = os.getloadavg()
        if args.keep:
            bench.results["meta"]["workdir"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return bench.results, status


def _on_postgres(plan: Plan, args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    from bench.postgres import throwaway_cluster

    log("starting a throw-away PostgreSQL cluster")
    try:
        with throwaway_cluster() as url:
            return run_once(plan, replace_args(args, database_url=url))
    except RuntimeError as e:
        traceback.print_exc()
        return {"meta": {"database": "postgresql"}, "figures": [], "error": str(e)}, 1


def replace_args(args: argparse.Namespace, **changes: Any) -> argparse.Namespace:
    """A copy of ``args`` with ``changes``."""
    return argparse.Namespace(**{**vars(args), **changes})


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = PLANS[args.mode]
    if args.batch_total:
        plan = replace(plan, batch_total=args.batch_total)
    if args.single:
        plan = replace(plan, single=args.single)
    if args.seed is None:
        args.seed = secrets.randbelow(2**31)
    out = (
        Path(args.out)
        if args.out
        else REPO / "bench" / "results" / f"{plan.mode}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    )
    args.out = str(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    install_signal_handlers()
    if args.both:
        from bench.both import both_table

        sqlite, status_s = run_once(plan, replace_args(args, database_url=None))
        postgres, status_p = _on_postgres(plan, args)
        out.write_text(
            json.dumps({"sqlite": sqlite, "postgresql": postgres}, ensure_ascii=False, indent=2, default=str)
        )
        for name, results in (("SQLite", sqlite), ("PostgreSQL", postgres)):
            print(f"== {name}\n{table(results)}\n")
        print(both_table(sqlite, postgres))
        print(f"\nJSON: {out}")
        return status_s or status_p
    results, status = _on_postgres(plan, args) if args.postgres else run_once(plan, args)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    print(table(results))
    print(f"\nJSON: {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
