"""A small pool of worker processes whose jobs can be stopped: an overrunning worker is killed.

``concurrent.futures.ProcessPoolExecutor`` cannot stop one job: killing a worker breaks the whole
pool and every job in it. Here each worker is checked out by one caller at a time, over its own
pipe, so a timeout kills exactly the worker running the hostile file; a fresh one replaces it on
next use. Workers come from a ``forkserver`` that has already imported pyHanko, so replacing one
costs a fork (milliseconds), not an interpreter start; the parent may have threads, which is why
plain ``fork`` is not used.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
from typing import Any, Literal, cast

from verify.report import VerifierBusy, VerifyError

log = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT = 2 * 1024**3  # address space per worker: a decompression bomb ends here
PRELOAD = ("verify.analysis",)
QUIET_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "verify")
READY = b"ready"
START_TIMEOUT_S = 60.0
_Context = ForkServerContext | SpawnContext | ForkContext


class JobTimeout(VerifyError):
    """The job ran past its time limit; its worker was killed."""

    def diagnostics(self) -> str:
        return f"The analysis did not finish in time and was stopped ({self})."


class WorkerCrashed(VerifyError):
    """The worker died during the job (killed by a resource limit, or crashed)."""

    def diagnostics(self) -> str:
        return f"The analysis process stopped unexpectedly ({self})."


class WorkerStartFailed(VerifyError):
    """A worker process could not start: a deployment problem, not something about the file.

    The usual cause is a main module that is not import-safe: workers come from a forkserver,
    which, like ``spawn``, re-imports the parent's ``__main__`` unless it is guarded by
    ``if __name__ == "__main__":``.
    """

    def diagnostics(self) -> str:
        return f"The verifier could not start its analysis process ({self})."


class JobFailed(VerifyError):
    """The job raised an exception in the worker."""

    def diagnostics(self) -> str:
        return f"The analysis failed: {self}."


def _limit_memory(limit: int | None) -> None:
    if not limit:
        return
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform without rlimits
        pass


def _worker_main(conn: Connection, memory_limit: int | None) -> None:
    """Serve jobs until the pipe closes. A job is ``(function, args, kwargs)``, pickled."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    _limit_memory(memory_limit)
    # pyHanko logs every anomaly of a hostile file as a warning with a traceback; the findings
    # already carry the message, so keep worker logs to real errors.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        conn.send_bytes(READY)
    except (EOFError, OSError):
        return
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            fn, args, kwargs = pickle.loads(raw)  # noqa: S301 - sent by our parent process
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as e:  # report, keep serving
            reply = ("err", f"{type(e).__name__}: {e}"[:500])
        try:
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            payload = pickle.dumps(("err", f"result not picklable: {e}"[:500]))
        try:
            conn.send_bytes(payload)
        except (EOFError, OSError):
            return


def _main_module() -> list[str]:
    """The main module when it was run by name (``python -m certsvc.cli``): every worker runs it
    again as ``__mp_main__`` when it starts, which with the forkserver's imports is instant and
    without them means importing the whole service (seconds, on a busy machine)."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    name = getattr(spec, "name", None)
    return [name] if isinstance(name, str) and not name.endswith("__main__") else []


class _Worker:
    """One slot of the pool; its process is started on first use and after a kill."""

    def __init__(self, pool: WorkerPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None

    def ensure_started(self) -> Connection:
        if self.process is not None and self.process.is_alive() and self.conn is not None:
            return self.conn
        self.stop()
        ctx = self.pool.context
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(
            target=_worker_main,
            args=(child, self.pool.memory_limit),
            name=f"verify-worker-{self.index}",
            daemon=True,
        )
        proc.start()
        child.close()
        self.process, self.conn = proc, parent
        try:
            ok = parent.poll(START_TIMEOUT_S) and parent.recv_bytes() == READY
        except (EOFError, OSError):
            ok = False
        if not ok:
            code = proc.exitcode
            self.stop()
            log.error("verify worker failed to start (exit code %s); is __main__ import-safe?", code)
            raise WorkerStartFailed(f"worker exited during start-up with code {code}")
        return parent

    def stop(self) -> None:
        """Kill this slot's process (by its own pid) and forget it."""
        proc, conn = self.process, self.conn
        self.process = self.conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(timeout=2)


class WorkerPool:
    """``size`` worker processes; :meth:`call` runs one job on a free one, with a time limit."""

    def __init__(
        self,
        size: int | None = None,
        *,
        start_method: Literal["forkserver", "spawn", "fork"] = "forkserver",
        preload: Sequence[str] = PRELOAD,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        self.size = max(1, size or os.cpu_count() or 2)
        # typeshed types a context got by a non-literal name as BaseContext, which lacks Process
        self.context = cast(_Context, multiprocessing.get_context(start_method))
        if start_method == "forkserver" and preload:
            self.context.set_forkserver_preload([*preload, *_main_module()])
        self.memory_limit = memory_limit
        self.pid = os.getpid()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._slots = [_Worker(self, i) for i in range(self.size)]
        for w in self._slots:
            self._idle.put(w)
        self.kills = 0  # how many overrunning workers were killed (for metrics and tests)

    def call(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        timeout_s: float,
        queue_timeout_s: float = 30.0,
    ) -> Any:
        """Run ``fn(*args, **kwargs)`` in a worker and return its result.

        The time limit covers the job only, not waiting for a free worker (bounded by
        ``queue_timeout_s``, then :class:`VerifierBusy`) nor starting one.
        """
        try:
            worker = self._idle.get(timeout=queue_timeout_s)
        except queue.Empty:
            raise VerifierBusy(f"no analysis worker free within {queue_timeout_s:g} s") from None
        try:
            conn = worker.ensure_started()
            try:
                conn.send_bytes(pickle.dumps((fn, args, kwargs or {}), protocol=pickle.HIGHEST_PROTOCOL))
                if not conn.poll(timeout_s):
                    worker.stop()
                    self.kills += 1
                    raise JobTimeout(f"still running after {timeout_s:g} s")
                status, payload = pickle.loads(conn.recv_bytes())  # noqa: S301 - our own worker
            except (EOFError, OSError) as e:
                code = worker.process.exitcode if worker.process is not None else None
                worker.stop()
                log.warning("verify worker died during a job (exit code %s)", code)
                raise WorkerCrashed(f"worker exited (code {code}): {type(e).__name__}") from None
        finally:
            self._idle.put(worker)
        if status != "ok":
            raise JobFailed(payload)
        return payload

    def warm(self) -> None:
        """Start every worker now rather than on first use (blocking; the first start also
        starts the forkserver, about 2 s)."""

        def start_one() -> None:
            try:
                self.call(os.getpid, timeout_s=START_TIMEOUT_S)
            except VerifyError as e:  # it starts again on first use
                log.warning("starting an analysis worker failed: %s", e)

        threads = [threading.Thread(target=start_one) for _ in self._slots]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def close(self) -> None:
        """Stop every worker this pool started."""
        if os.getpid() != self.pid:
            return  # inherited by a forked child: the workers are not ours
        for w in self._slots:
            try:
                w.stop()
            except Exception:  # noqa: S110 - best effort at shutdown
                pass


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def default_pool() -> WorkerPool:
    """The process-wide pool, created on first use (and anew in a forked child)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():
            size = int(os.environ.get("CERTSVC_VERIFY_WORKERS", "0")) or None
            _pool = WorkerPool(size)
            atexit.register(_pool.close)
        return _pool


def reset_default_pool() -> None:
    """Stop the process-wide pool (tests; configuration changes). The next call makes a new one."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
        _pool = None
