"""Receipts issued before materials were tracked: the migration tracks their missing materials."""

from __future__ import annotations

from datetime import timedelta

from certsvc.core.clock import today


def test_migration_tracks_the_missing_materials_of_earlier_receipts(service) -> None:
    from alembic import command
    from alembic.config import Config

    from certsvc.db.session import MIGRATIONS_DIR

    due = (today() + timedelta(days=6)).isoformat()
    body = {
        "applicant_name": "某公司",
        "matter": "公共场所卫生许可",
        "application_number": "SQ-OLD",
        "materials_missing": [{"name": "卫生检测报告", "due": due}, {"name": "平面图", "due": due}],
    }
    old = service.client.post("/api/v1/receipts", headers=service.health.auth, json=body).json()
    none_missing = {**body, "application_number": "SQ-OLD-2", "materials_missing": []}
    complete = service.client.post("/api/v1/receipts", headers=service.health.auth, json=none_missing).json()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = service.ctx.engine
    command.downgrade(cfg, "0005")  # as the database was before materials were tracked
    command.upgrade(cfg, "head")
    view = service.client.get(f"/api/v1/receipts/{old['id']}", headers=service.health.auth).json()
    assert view["materials_state"] == "pending"
    assert [(m["name"], m["due"], m["state"]) for m in view["outstanding"]] == [
        ("卫生检测报告", due, "outstanding"),
        ("平面图", due, "outstanding"),
    ]
    got = service.client.get(f"/api/v1/receipts/{complete['id']}", headers=service.health.auth).json()
    assert got["materials_state"] == "complete"
    r = service.client.post(
        f"/api/v1/receipts/{old['id']}/materials", headers=service.health.auth, json={"name": "平面图"}
    )
    assert r.status_code == 200 and r.json()["outstanding"][0]["name"] == "卫生检测报告"
