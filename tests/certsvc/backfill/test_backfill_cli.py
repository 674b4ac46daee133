"""``certsvc backfill FILE.csv --department CODE [--wait]``: a CSV of paper licences becomes a job;
bad files are refused naming the line and column, before anything is stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, col, func, select

from certsvc.db.models import Licence
from certsvc.db.work import LicenceJob
from tests.support.data import random_uscc
from tests.support.service import Service

HEADER = (
    "licence_type,holder_uscc,holder_name,number,issued_on,valid_until,fields.经营场所,fields.主体业态,fields.经营项目"
)


def row(number: str, issued_on: str, name: str = "深圳市南山区老字号面馆") -> str:
    fields = "深圳市南山区南头街1号,餐饮服务经营者,热食类食品制售"
    return f"SPJY,{random_uscc()},{name},{number},{issued_on},2028-06-30,{fields}"


def backfill(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "certsvc.cli", "backfill", *args],
        cwd=tmp,
        env=dict(os.environ),  # the CERTSVC_* settings of the running test service
        capture_output=True,
        text=True,
        timeout=300,
    )


def jobs_stored(service: Service) -> int:
    with Session(service.ctx.engine) as s:
        return s.exec(select(func.count()).select_from(LicenceJob)).one()


def test_backfill_wait_issues_the_rows_and_names_the_lines_that_failed(service: Service, tmp_path: Path) -> None:
    lines = [
        HEADER,
        row("粤食经(2018)0001", "2018-04-02"),
        row("粤食经(2018)0002", "2018-04-03"),
        "",
        row("粤食经(2018)0001", "2018-04-04"),  # the number of line 2 again
        row("粤食经(2018)0003", "2999-01-01"),  # issued in the future
        row("粤食经(2018)0004", "2018-04-05"),
    ]
    (tmp_path / "paper.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = backfill(tmp_path, "paper.csv", "--department", "szwj", "--wait")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout.splitlines()
    assert out[0].startswith("job ") and "5 licences from paper.csv" in out[0]
    assert " done: 3 issued, 2 failed, of 5" in r.stdout
    assert "line 5: number: 粤食经(2018)0001 is also the number of item 0 of this job" in r.stdout
    assert "line 6: issued_on: 2999-01-01 is in the future" in r.stdout
    assert "5/5 processed (3 issued, 2 failed)" in r.stderr  # progress, as plain lines when piped
    with Session(service.ctx.engine) as s:
        kept = dict(
            s.exec(select(Licence.number, Licence.issued_on).where(col(Licence.number).like("粤食经(2018)%"))).all()
        )
    assert {k: v.isoformat() for k, v in kept.items()} == {
        "粤食经(2018)0001": "2018-04-02",
        "粤食经(2018)0002": "2018-04-03",
        "粤食经(2018)0004": "2018-04-05",
    }


def test_a_csv_with_an_unknown_column_is_refused_naming_it_and_nothing_is_stored(
    service: Service, tmp_path: Path
) -> None:
    (tmp_path / "bad.csv").write_text(HEADER.replace("issued_on", "issue_date") + "\n", encoding="utf-8")
    before = jobs_stored(service)
    r = backfill(tmp_path, "bad.csv", "--department", "SZWJ")
    assert r.returncode == 2
    assert "bad.csv: line 1, column 5: unknown column 'issue_date'" in r.stderr
    assert "Traceback" not in r.stderr
    assert jobs_stored(service) == before
