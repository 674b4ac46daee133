"""The analysis runs in worker processes that are killed when they overrun, and the pool recovers."""

from __future__ import annotations

import os
import pickle
import threading
import time

import pytest

from verify.analysis import analyse_bounded
from verify.report import ProblemKind, Verdict, VerifierBusy
from verify.trust import TrustContext
from verify.verifier import verify_pdf
from verify.workers import JobFailed, JobTimeout, WorkerCrashed, WorkerPool


@pytest.fixture
def pool():
    p = WorkerPool(1)
    yield p
    p.close()


def test_overrunning_job_is_killed_and_the_worker_replaced(pool):
    first_pid = pool.call(os.getpid, timeout_s=30)
    started = time.perf_counter()
    with pytest.raises(JobTimeout):
        pool.call(time.sleep, (30,), timeout_s=0.2)
    assert time.perf_counter() - started < 3
    assert pool.kills == 1
    second_pid = pool.call(os.getpid, timeout_s=30)
    assert second_pid != first_pid
    assert pool.call(sum, ([1, 2, 3],), timeout_s=30) == 6


def test_crashed_worker_is_reported_and_replaced(pool):
    with pytest.raises(WorkerCrashed):
        pool.call(os._exit, (3,), timeout_s=30)
    assert pool.call(len, ("abc",), timeout_s=30) == 3


def test_exception_in_job_is_reported_and_worker_kept(pool):
    pid = pool.call(os.getpid, timeout_s=30)
    with pytest.raises(JobFailed, match="ZeroDivisionError"):
        pool.call(divmod, (1, 0), timeout_s=30)
    assert pool.call(os.getpid, timeout_s=30) == pid


def test_busy_pool_says_so(pool):
    pool.call(os.getpid, timeout_s=30)  # started
    t = threading.Thread(target=pool.call, args=(time.sleep, (1.0,)), kwargs={"timeout_s": 30})
    t.start()
    time.sleep(0.1)
    try:
        with pytest.raises(VerifierBusy):
            pool.call(os.getpid, timeout_s=30, queue_timeout_s=0.1)
    finally:
        t.join()


def test_analysis_over_the_time_limit_is_a_timeout_finding_and_pool_recovers(kit, trust, issued):
    sealed = kit.seal()
    assert verify_pdf(sealed, trust, issued).verdict is Verdict.GENUINE  # pool warm
    findings = analyse_bounded(sealed, trust, timeout_s=0.001)  # no analysis finishes in 1 ms
    assert findings.problems[0].kind is ProblemKind.TIMEOUT
    assert "did not finish within 0.001 s" in findings.problems[0].detail
    report = verify_pdf(sealed, trust, issued, timeout_s=0.001)
    assert report.verdict is Verdict.MALFORMED
    assert {c.name: c.ok for c in report.checks}["analysis_finished"] is False
    assert verify_pdf(sealed, trust, issued).verdict is Verdict.GENUINE


def test_trust_context_crosses_process_boundary(trust):
    clone = pickle.loads(pickle.dumps(trust))  # our own bytes
    assert isinstance(clone, TrustContext)
    assert clone.fingerprint == trust.fingerprint
    assert [c.kid for c in clone.certs] == [c.kid for c in trust.certs]
    assert clone.by_kid(trust.certs[0].kid).owner_kind == "department"
