"""The sweep scheduler inside `certsvc serve`: two server processes on one database change each
overdue item exactly once (PostgreSQL: advisory lock and compare-and-set; SQLite: compare-and-set)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from sqlalchemy import text, update
from sqlmodel import Session, col, func, select

from certsvc.core.clock import today
from certsvc.db.models import AuditEvent, Commitment, ReceiptMaterial
from certsvc.db.session import make_engine
from tests.support.data import business_licence_body, random_uscc
from tests.support.live import add_department_cli, free_port, serve, server_env
from tests.support.reform import commitment_type

TYPE = {"code": "GGWS", "name": "公共场所卫生许可证", "fields": [], "validity_days": 1460, "reform_mode": "approval"}
LICENCES = 12
RECEIPTS = 6
COMMITMENTS = 3
ACTIONS = ["licence.expire", "receipt.overdue", "commitment.overdue", "licence.suspend"]


def _counts(engine) -> dict[str, list[str | None]]:
    with Session(engine) as s:
        rows = s.exec(select(AuditEvent.action, AuditEvent.subject_id).where(col(AuditEvent.action).in_(ACTIONS))).all()
    out: dict[str, list[str | None]] = {action: [] for action in ACTIONS}
    for action, subject in rows:
        out[action].append(subject)
    return out


def _commitments_issued(base: str, env: dict[str, str], health: dict[str, str]) -> set[str]:
    """Enterprises that signed a commitment (告知承诺, suspend when overdue) and got a licence with it:
    the licences' ids."""
    market = add_department_cli(env, "深圳市市场监督管理局", "SZSJ", registrar=True)
    licences = set()
    with httpx.Client(base_url=base, timeout=120) as c:
        r = c.post("/api/v1/licence-types", headers=health, json=commitment_type("GGWSC", on_overdue="suspend"))
        assert r.status_code == 201, r.text
        for i in range(COMMITMENTS):
            uscc, name = random_uscc(), f"深圳市承诺第{i}旅馆有限公司"
            bl = c.post("/api/v1/licences", headers=market, json=business_licence_body(uscc, name)).json()
            code = bl["activation_code"]
            token = c.post("/api/v1/enterprise/activate", json={"uscc": uscc, "activation_code": code}).json()["token"]
            ent = {"Authorization": f"Bearer {token}"}
            signed = c.post(
                "/api/v1/enterprise/commitments", headers=ent, json={"department": "SZWJ", "licence_type": "GGWSC"}
            )
            assert signed.status_code == 201, signed.text
            body = {
                "licence_type": "GGWSC",
                "holder_uscc": uscc,
                "holder_name": name,
                "fields": {"经营场所": "深圳市福田区"},
                "commitment_id": signed.json()["id"],
            }
            lic = c.post("/api/v1/licences", headers=health, json=body)
            assert lic.status_code == 201, lic.text
            licences.add(lic.json()["id"])
    return licences


def test_two_server_processes_sweep_each_overdue_item_once(tmp_path) -> None:
    port_a, port_b = free_port(), free_port()
    env = {**server_env(tmp_path, port_a), "CERTSVC_SWEEP_INTERVAL_S": "0.2", "CERTSVC_SIGN_WORKERS": "0"}
    auth = add_department_cli(env)
    servers = [serve(env, port_a)]
    servers.append(serve({**env, "CERTSVC_PUBLIC_BASE_URL": f"http://127.0.0.1:{port_b}"}, port_b))
    engine = make_engine(env["CERTSVC_DATABASE_URL"])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port_a}", headers=auth, timeout=120) as c:
            assert c.post("/api/v1/licence-types", json=TYPE).status_code == 201
            items = [
                {
                    "licence_type": "GGWS",
                    "holder_uscc": random_uscc(),
                    "holder_name": f"深圳市第{i}旅馆",
                    "valid_from": "2020-01-01",
                    "valid_until": "2023-12-31",  # back-filled paper licences, ended already
                }
                for i in range(LICENCES)
            ]
            r = c.post("/api/v1/licences:batch", json={"items": items})
            assert r.json()["issued"] == LICENCES, r.text
            expired = {x["id"] for x in r.json()["results"]}
            due = (today() + timedelta(days=1)).isoformat()
            receipts = set()
            for i in range(RECEIPTS):
                body = {
                    "applicant_name": "某旅馆",
                    "matter": "公共场所卫生许可",
                    "application_number": f"SQ-{i}",
                    "materials_missing": [{"name": "卫生检测报告", "due": due}, {"name": "平面图", "due": due}],
                }
                rec = c.post("/api/v1/receipts", json=body)
                assert rec.status_code == 201, rec.text
                receipts.add(rec.json()["id"])
        committed = _commitments_issued(f"http://127.0.0.1:{port_a}", env, auth)
        # the days pass: the materials' and the commitments' due dates are now behind us
        with Session(engine) as s:
            s.execute(update(ReceiptMaterial).values(due=today() - timedelta(days=1)))
            s.execute(update(Commitment).values(due=today() - timedelta(days=1)))
            s.commit()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = _counts(engine)
            if (
                set(seen["licence.expire"]) >= expired
                and len(seen["receipt.overdue"]) >= 2 * RECEIPTS
                and len(seen["licence.suspend"]) >= COMMITMENTS
            ):
                break
            time.sleep(0.3)
        time.sleep(1.5)  # both schedulers keep sweeping: nothing may change twice
        seen = _counts(engine)
        assert sorted(x for x in seen["licence.expire"] if x in expired) == sorted(expired)
        assert len(seen["licence.expire"]) == len(set(seen["licence.expire"]))
        assert sorted(seen["receipt.overdue"]) == sorted(list(receipts) * 2)
        assert len(seen["commitment.overdue"]) == len(set(seen["commitment.overdue"])) == COMMITMENTS
        assert sorted(x for x in seen["licence.suspend"] if x) == sorted(committed)  # each suspended once
        with Session(engine) as s:
            states = s.execute(text("SELECT materials_state, count(*) FROM receipt GROUP BY materials_state")).all()
            assert dict(states) == {"overdue": RECEIPTS}
            assert (
                s.exec(
                    select(func.count()).select_from(ReceiptMaterial).where(col(ReceiptMaterial.overdue_at).is_(None))
                ).one()
                == 0
            )
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=60)
        engine.dispose()
