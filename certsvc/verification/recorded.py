"""The fast path for files the service produced: their analysis, recorded once, by SHA-256.

The full analysis of a PDF (parsing, every signature's cryptography, the structure of every
revision) depends only on the file's bytes, the trust list and, for document time-stamps, the
day; the verdict, the signers' standing now, the licence's status, the grant — everything that
changes — is judged afresh from the findings each time (:func:`verify.verifier.judge`). So an
upload whose SHA-256 and trust-list version match recorded findings made today is judged from them
without being parsed, and its answer is the full analysis's. Findings are recorded only for files
the service produced: a genuine licence, receipt or marked copy, an enterprise-signed document, or a
file whose SHA-256 is a stored licence or receipt (after a key revocation too). Anything else is
analysed in full every time, within the upload limits.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from certsvc.core import clock
from certsvc.db.work import VerifiedFile
from verify.report import PdfFindings, Report, Verdict
from verify.trust import OwnerKind, TrustContext

_FINDINGS: TypeAdapter[PdfFindings] = TypeAdapter(PdfFindings)
_FINDINGS.rebuild(_types_namespace={"OwnerKind": OwnerKind})  # report.py names it for type checkers only
RECORDED_VERDICTS = (Verdict.GENUINE, Verdict.SIGNED_BY_ENTERPRISE)


def sha256_of(data: bytes) -> str:
    """The hex SHA-256 of an upload."""
    return hashlib.sha256(data).hexdigest()


def _usable_until(trust: TrustContext, made: datetime) -> datetime:
    """Recorded findings hold on the UTC day they were made, and not past the expiry of any
    certificate they were judged with (a time-stamp is checked against today's validity)."""
    day_end = datetime(made.year, made.month, made.day, tzinfo=UTC).timestamp() + 86_400
    expiries = [trust.root.not_valid_after_utc.timestamp()]
    expiries.extend(c.cert.not_valid_after_utc.timestamp() for c in trust.certs)
    return datetime.fromtimestamp(min(day_end, *expiries), UTC)


_RECORD = select(col(VerifiedFile.findings), col(VerifiedFile.created_at)).where(
    col(VerifiedFile.sha256) == bindparam("sha"), col(VerifiedFile.trust_version) == bindparam("version")
)
_MEMO_MAX = 1024
_memo: OrderedDict[tuple[str, str, int], tuple[PdfFindings, datetime]] = OrderedDict()
_memo_lock = threading.Lock()


def recorded_findings(s: Session, sha256: str, trust_version: int, trust: TrustContext) -> PdfFindings | None:
    """The findings recorded for this file under this trust-list version, if still usable now (a
    record never changes: the last ones read are kept in memory, with the moment they stop holding)."""
    conn = s.connection()
    key = (str(conn.engine.url), sha256, trust_version)  # one database's record, not another's
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
    if hit is None:
        row = conn.execute(_RECORD, {"sha": sha256, "version": trust_version}).first()
        if row is None:
            return None
        made = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        hit = (_FINDINGS.validate_json(row.findings), _usable_until(trust, made))
        with _memo_lock:
            _memo[key] = hit
            if len(_memo) > _MEMO_MAX:
                _memo.popitem(last=False)
    findings, until = hit
    return findings if clock.now() < until else None


def worth_recording(report: Report, stored: bool) -> bool:
    """Whether the service produced this file: judged genuine or signed by its enterprises, or its
    SHA-256 is that of a stored licence or receipt (``stored``); and its analysis ran to the end."""
    findings = report.findings
    if findings is None or findings.problems:
        return False
    return report.verdict in RECORDED_VERDICTS or stored


def record_findings(s: Session, findings: PdfFindings, trust_version: int) -> None:
    """Record the findings of a produced file (replacing an outdated record of the same file)."""
    row = s.get(VerifiedFile, (findings.sha256, trust_version))
    text = _FINDINGS.dump_json(findings).decode()
    if row is None:
        s.add(VerifiedFile(sha256=findings.sha256, trust_version=trust_version, findings=text))
    else:
        row.findings, row.created_at = text, clock.now()
    try:
        s.commit()
    except IntegrityError:  # another process recorded it at the same moment
        s.rollback()
