"""The operator's CLI for credentials (SPEC "Lists, registers and credentials", "CLI"): department API
keys added, listed and revoked; an enterprise re-issued; departments listed; run with ``--data-dir``
from another directory, and refusing to start read-only commands where there is no database."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from certsvc.cli import main
from certsvc.cli.common import moment
from certsvc.core.clock import CST
from certsvc.core.config import reset_settings
from certsvc.db.models import ApiCredential, AuditEvent
from tests.support.cli import last_line, run_cli, without_certsvc_env
from tests.support.service import Service, make_enterprise


def cli(capsys: pytest.CaptureFixture[str], service: Service, *args: str) -> tuple[int, str, str]:
    """``certsvc --data-dir <the service's> ARGS`` in this process, from another working directory."""
    here = os.getcwd()
    os.chdir(service.ctx.settings.data_dir.parent)
    try:
        code = main(["--data-dir", str(service.ctx.settings.data_dir), *args])
    finally:
        os.chdir(here)
    out = capsys.readouterr()
    return code, out.out, out.err


def licence_types(service: Service, key: str) -> int:
    return service.client.get("/api/v1/licence-types", headers={"Authorization": f"Bearer {key}"}).status_code


def test_key_add_prints_a_working_key_on_its_last_line(service, capsys) -> None:
    code, out, _err = cli(capsys, service, "department", "key", "add", "--department", "szwj")
    assert code == 0
    assert licence_types(service, last_line(out)) == 200
    assert licence_types(service, service.health.key) == 200  # the first key keeps working


def test_a_revoked_department_key_is_401_and_its_replacement_works(service, capsys) -> None:
    _code, out, _err = cli(capsys, service, "department", "key", "add", "--department", "SZZJ")
    replacement = last_line(out)
    keys = json.loads(cli(capsys, service, "department", "key", "list", "--department", "SZZJ", "--json")[1])
    first = str(keys[0]["id"])
    code, out, _err = cli(capsys, service, "department", "key", "revoke", "--department", "SZZJ", "--key-id", first)
    assert code == 0 and "revoked" in out
    r = service.client.get("/api/v1/licence-types", headers=service.housing.auth)
    assert r.status_code == 401
    assert "this API key was revoked on" in r.json()["error"]["message"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert licence_types(service, replacement) == 200


def test_key_list_shows_when_each_key_was_last_used_without_secrets(service, capsys) -> None:
    assert licence_types(service, service.market.key) == 200
    code, out, _err = cli(capsys, service, "department", "key", "list", "--department", "SZSJ", "--json")
    assert code == 0
    [key] = json.loads(out)
    assert set(key) >= {"id", "created_at", "last_used_at", "revoked_at"}
    assert key["last_used_at"] is not None and key["revoked_at"] is None
    assert service.market.key not in out and service.market.key.rsplit("_", 1)[1] not in out


def test_last_used_is_written_at_most_once_a_minute(service) -> None:
    assert licence_types(service, service.market.key) == 200
    with Session(service.ctx.engine) as s:
        cred = s.get(ApiCredential, 1)
        assert cred is not None and cred.kind == "department"
        before = cred.last_used_at
    for _ in range(3):
        assert licence_types(service, service.market.key) == 200
    with Session(service.ctx.engine) as s:
        cred = s.get(ApiCredential, 1)
        assert cred is not None and cred.last_used_at == before


def test_revoking_a_key_of_another_department_is_a_clear_error(service, capsys) -> None:
    code, _out, err = cli(capsys, service, "department", "key", "revoke", "--department", "SZWJ", "--key-id", "1")
    assert code == 2
    assert "SZWJ has no API key with id 1" in err


def test_reissue_ends_the_old_token_and_the_new_code_activates(service, capsys) -> None:
    ent = make_enterprise(service)
    staff = service.client.post(
        "/api/v1/enterprise/tokens", headers=ent.auth, json={"name": "李四", "scopes": ["licences:read"]}
    ).json()["token"]
    code, out, _err = cli(capsys, service, "enterprise", "reissue", "--uscc", ent.uscc)
    assert code == 0
    new_code = last_line(out)
    for token in (ent.token, staff):
        r = service.client.get("/api/v1/enterprise/licences", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert "new activation code" in r.json()["error"]["message"]
    r = service.client.post("/api/v1/enterprise/activate", json={"uscc": ent.uscc, "activation_code": new_code})
    assert r.status_code == 200, r.text
    mine = service.client.get("/api/v1/enterprise/licences", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert mine.status_code == 200


def test_reissue_ends_the_portal_session(service, capsys) -> None:
    from fastapi.testclient import TestClient

    ent = make_enterprise(service)
    with TestClient(service.client.app, follow_redirects=False) as c:
        home = c.get("/portal")
        csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', home.text)
        assert csrf is not None
        assert c.post("/portal/signin", data={"token": ent.token, "csrf": csrf.group(1)}).status_code == 303
        assert c.get("/portal/licences").status_code == 200
        assert cli(capsys, service, "enterprise", "reissue", "--uscc", ent.uscc)[0] == 0
        r = c.get("/portal/licences")
        assert r.status_code == 303 and r.headers["location"] == "/portal"


def test_key_changes_and_reissue_are_audited(service, capsys) -> None:
    _code, out, _err = cli(capsys, service, "department", "key", "add", "--department", "SZWJ")
    key_id = json.loads(cli(capsys, service, "department", "key", "list", "--department", "SZWJ", "--json")[1])[-1][
        "id"
    ]
    cli(capsys, service, "department", "key", "revoke", "--department", "SZWJ", "--key-id", str(key_id))
    with Session(service.ctx.engine) as s:
        events = s.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("department.api_key"))).all()
        reissued = s.exec(select(AuditEvent).where(AuditEvent.action == "enterprise.reissue")).all()
    assert {"department.api_key", "department.api_key.revoke"} <= {
        e.action for e in events if e.details.get("key_id") == key_id
    }
    assert reissued and all(e.actor_kind == "operator" for e in reissued)


def test_reissue_of_an_unknown_enterprise_is_a_clear_error(service, capsys) -> None:
    code, _out, err = cli(capsys, service, "enterprise", "reissue", "--uscc", "91440300MA5G0A1B0X")
    assert code == 2
    assert "uscc" in err


def test_department_list_names_each_department_and_its_roles(service, capsys) -> None:
    code, out, _err = cli(capsys, service, "department", "list", "--json")
    assert code == 0
    rows = {d["code"]: d for d in json.loads(out)}
    assert set(rows) >= {"SZSJ", "SZWJ", "SZZJ"}
    assert rows["SZSJ"]["registrar"] is True and rows["SZWJ"]["registrar"] is False
    code, out, _err = cli(capsys, service, "department", "list")
    assert code == 0 and "SZWJ" in out and "深圳市卫生健康委员会" in out


def test_a_second_registrar_is_a_clear_error(service, capsys) -> None:
    code, _out, err = cli(
        capsys,
        service,
        "department",
        "add",
        "--name",
        "另一个市场监管局",
        "--uscc",
        "11440300MB2C92050G",
        "--code",
        "SZSJ2",
        "--registrar",
    )
    assert code == 2
    assert "already the registrar" in err and "深圳市市场监督管理局" in err


def test_a_date_that_is_not_iso_8601_is_a_usage_error(service, capsys) -> None:
    with pytest.raises(SystemExit) as ended:
        cli(capsys, service, "keys", "rotate", "--department", "SZWJ", "--revoke-from", "tomorrow")
    assert ended.value.code == 2
    assert "'tomorrow' is not an ISO-8601 date or date-time" in capsys.readouterr().err


def test_dates_and_times_are_read_alike_everywhere() -> None:
    assert moment("2026-12-01") == datetime(2026, 12, 1, tzinfo=CST)
    assert moment("2026-12-01T08:30") == datetime(2026, 12, 1, 8, 30, tzinfo=CST)
    assert moment("2026-12-01T00:30:00Z") == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)


def test_sweep_shows_no_progress_when_piped(service, capsys) -> None:
    code, out, err = cli(capsys, service, "sweep")
    assert code == 0 and "swept as of" in out
    assert err == ""


def test_sweep_shows_progress_on_a_terminal_unless_quiet(service, capsys, monkeypatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: stderr is a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "0")
    from certsvc.sweeps import SWEEPS

    _code, _out, err = cli(capsys, service, "sweep")
    assert "sweep" in err and f"{len(SWEEPS)}/{len(SWEEPS)}" in err
    _code, _out, err = cli(capsys, service, "sweep", "--quiet")
    assert err == ""


# --- run from another directory (subprocesses, as an operator runs them) ---------------------


def test_verify_from_another_directory_with_data_dir(service, tmp_path: Path) -> None:
    lic = service.issue_food()
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(service.client.get(lic["pdf_url"], headers=service.health.auth).content)
    r = run_cli("verify", "--data-dir", str(service.ctx.settings.data_dir), str(pdf), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "genuine" in r.stdout.lower() and not r.stdout.lstrip().startswith("{")
    assert not (tmp_path / "certsvc-data").exists()


def test_verify_without_a_database_creates_nothing(tmp_path: Path) -> None:
    """Run from another directory with nothing pointing at a service: a clear message, exit 2, and no
    ``./certsvc-data`` (it used to print a SQLAlchemy traceback, say ``unknown_signer`` and create it)."""
    (tmp_path / "licence.pdf").write_bytes(b"%PDF-1.7\n")
    r = run_cli("verify", "licence.pdf", cwd=tmp_path, env=without_certsvc_env())
    assert r.returncode == 2
    assert "no certsvc database at" in r.stderr and "--data-dir" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["licence.pdf"]


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This process in an empty directory with no ``CERTSVC_*`` set (settings read afresh after)."""
    for name in [k for k in os.environ if k.startswith("CERTSVC_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    reset_settings()
    yield tmp_path
    reset_settings()


@pytest.mark.parametrize(
    "args",
    [("audit", "verify"), ("department", "list"), ("department", "key", "list", "--department", "SZWJ")],
    ids=lambda a: " ".join(a[:3]),
)
def test_read_only_commands_without_a_database_create_nothing(nowhere, capsys, args: tuple[str, ...]) -> None:
    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert "no certsvc database at" in err and "--data-dir" in err
    assert list(nowhere.iterdir()) == []
