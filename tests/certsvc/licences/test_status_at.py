"""Status as of a moment: ``?at=`` on /v/ and /api/v1/verify, and ``certsvc verify --at``, answer
from the recorded history of the licence (and of its holder's business licence)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from certsvc.cli.common import moment
from certsvc.core.clock import CST
from tests.support.cli import answer, run_verify

JSON = {"Accept": "application/json"}


def _path(url: str) -> str:
    return url.replace("http://testserver", "")


def _act(service, lic: dict, action: str, body: dict, dept=None) -> dict:
    r = service.client.post(f"/api/v1/licences/{lic['id']}/{action}", headers=(dept or service.health).auth, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _v(service, lic: dict, at: datetime | str) -> dict:
    at = at if isinstance(at, str) else at.isoformat()
    r = service.client.get(_path(lic["verify_url"]), headers=JSON, params={"at": at})
    assert r.status_code == 200, r.text
    return r.json()


def _suspended_after(service, issue_food) -> tuple[dict, datetime]:
    """A food licence suspended after the moment returned."""
    lic = issue_food()
    between = datetime.now(UTC)
    _act(service, lic, "suspend", {"reason": "责令整改"})
    return lic, between


def test_v_at_before_a_suspension_is_valid_and_after_it_suspended(service, issue_food) -> None:
    lic, between = _suspended_after(service, issue_food)
    assert _v(service, lic, between)["status"] == "valid"
    after = _v(service, lic, datetime.now(UTC))
    assert after["status"] == "suspended" and after["state_reason"] == "责令整改"


def test_v_at_before_issuance_is_unknown(service, issue_food) -> None:
    lic = issue_food()
    body = _v(service, lic, datetime.now(UTC) - timedelta(days=1))
    assert body["status"] == "unknown" and body["status_label"] == "该时刻尚未签发"


def test_v_at_answers_with_the_version_current_then(service, issue_food) -> None:
    old = issue_food()
    between = datetime.now(UTC)
    new = _act(service, old, "amend", {"fields": {"经营项目": "预包装食品销售"}})
    assert _v(service, old, between)["status"] == "valid"
    assert _v(service, old, datetime.now(UTC))["status"] == "superseded"
    assert _v(service, new, between)["status"] == "unknown"


def test_at_without_an_offset_is_china_time(service, issue_food) -> None:
    lic, between = _suspended_after(service, issue_food)
    local = between.astimezone(CST).replace(tzinfo=None).isoformat()
    assert _v(service, lic, local)["status"] == "valid"  # read as UTC it would be 8 h later: suspended


def test_v_page_shows_the_moment_asked_about(service, issue_food) -> None:
    lic, between = _suspended_after(service, issue_food)
    html = service.client.get(_path(lic["verify_url"]), params={"at": between.isoformat()}).text
    assert "状态查询时间" in html and f"{between.astimezone(CST):%Y-%m-%d %H:%M}" in html
    assert 'data-status="valid"' in html
    assert 'type="datetime-local"' in html


def test_verify_at_answers_the_status_then(service, issue_food) -> None:
    lic, between = _suspended_after(service, issue_food)
    pdf = service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content
    files = {"file": ("l.pdf", pdf, "application/pdf")}
    then = service.client.post("/api/v1/verify", files=files, params={"at": between.isoformat()}).json()
    now = service.client.post("/api/v1/verify", files=files).json()
    assert (then["licence"]["status"], now["licence"]["status"]) == ("valid", "suspended")


def test_bad_at_is_422_naming_at(service, issue_food) -> None:
    lic = issue_food()
    r = service.client.get(_path(lic["verify_url"]), headers=JSON, params={"at": "yesterday"})
    assert r.status_code == 422 and "at" in r.text
    v = service.client.post(
        "/api/v1/verify", params={"at": "2026-13-01"}, files={"file": ("l.pdf", b"%PDF-1.7", "application/pdf")}
    )
    assert v.status_code == 422 and "at" in v.text


OUT_OF_RANGE = ("0001-01-01T00:00:00", "9999-12-31T23:00:00-12:00", "1999-12-31T23:59:59Z", "2200-01-01")


def test_at_outside_the_years_2000_to_2199_is_422_naming_at(service, issue_food) -> None:
    lic = issue_food()
    pdf = {"file": ("l.pdf", b"%PDF-1.7", "application/pdf")}
    for at in OUT_OF_RANGE:
        for r in (
            service.client.get(_path(lic["verify_url"]), headers=JSON, params={"at": at}),
            service.client.get(_path(lic["verify_url"]), params={"at": at}),  # the page
            service.client.post("/api/v1/verify", params={"at": at}, files=pdf),
        ):
            assert r.status_code == 422, (at, r.status_code, r.text[:300])
            assert "2000–2199" in r.text, r.text[:300]
            if r.headers["content-type"].startswith("application/json"):
                assert r.json()["error"]["field"] == "at"
    assert _v(service, lic, "2199-12-31T23:59:59+14:00")["status"] == "expired"  # the edges still answer
    assert _v(service, lic, "2000-01-01T00:00:00-12:00")["status"] == "unknown"


@pytest.mark.files
@pytest.mark.parametrize("at", OUT_OF_RANGE)
def test_cli_at_outside_the_range_is_a_usage_error(at: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="2000–2199"):
        moment(at)  # the type of every --at: argparse answers it as a usage error (exit 2)


def test_holder_status_then_on_other_licences(service, ent) -> None:
    between = datetime.now(UTC)
    _act(service, ent.business_licence, "revoke", {"reason": "吊销"}, dept=service.market)
    assert _v(service, ent.food_licence, between)["holder_status"] == "valid"
    assert _v(service, ent.food_licence, datetime.now(UTC))["holder_status"] == "revoked"


def test_cli_verify_at_exits_by_the_status_then(service, issue_food, tmp_path: Path) -> None:
    lic, between = _suspended_after(service, issue_food)
    pdf = tmp_path / "l.pdf"
    pdf.write_bytes(service.client.get(f"/api/v1/licences/{lic['id']}/pdf", headers=service.health.auth).content)
    then = run_verify(str(pdf), "--json", "--at", between.isoformat(), cwd=tmp_path, online=True)
    assert then.returncode == 0, then.stdout + then.stderr
    assert answer(then)["licence"]["status"] == "valid"
    now = run_verify(str(pdf), "--json", cwd=tmp_path, online=True)
    assert now.returncode == 1 and answer(now)["licence"]["status"] == "suspended"


def test_migration_backfills_the_history_of_existing_licences(service, issue_food) -> None:
    from alembic import command
    from alembic.config import Config

    from certsvc.db.session import MIGRATIONS_DIR

    lic, between = _suspended_after(service, issue_food)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = service.ctx.engine
    command.downgrade(cfg, "0004")  # as the database was before the history existed
    command.upgrade(cfg, "head")
    assert _v(service, lic, between - timedelta(minutes=5))["status"] == "unknown"
    assert _v(service, lic, between)["status"] == "valid"
    assert _v(service, lic, datetime.now(UTC))["status"] == "suspended"
