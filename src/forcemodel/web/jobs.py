"""Runs started from the dashboard: a bounded worker pool inside the server, stored on disk.

A job runs ``simulate`` (or ``optimize``, then ``simulate`` on its plan) on a scenario in one
of a few worker threads (the engine's kernels
release no shared state, and the web server keeps answering meanwhile). Its record (who asked,
what, where it stands, its progress messages) is a ``job.json`` written atomically in its own
folder, and its results a results folder beside it (:meth:`forcemodel.results.Results.save`),
so that finished jobs reopen after a restart; a job that was queued or running when the server
stopped is marked ``interrupted``. The queue is bounded: past ``max_queued`` waiting jobs a new
one is refused, never silently dropped.

Cancelling is cooperative: a queued job never starts; a running one stops at the engine's next
progress step (compiling, planning, moving, tabulating).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The engine's progress steps, in order (the fraction shown is the share reached).
SIMULATE_STEPS = (
    "compiling the network",
    "planning destinations and pre-positioned sets",
    "moving",
    "tabulating results",
)
#: States a job can be in; the last four are final.
STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
FINAL = frozenset({"done", "failed", "cancelled", "interrupted"})
#: Characters of a job id (hex).
ID_LENGTH = 12


class JobRefused(Exception):
    """The pool will not take the job now (the message says why)."""


class Cancelled(Exception):
    """Raised inside a running job when it was asked to stop."""


@dataclass
class Job:
    """One run: what, for whom, and where it stands."""

    id: str
    kind: str
    #: the scenario: a bundled name or the name of an uploaded scenario
    scenario: str
    #: where the scenario was loaded from (a bundled name or a folder path)
    source: str
    owner: str
    owner_role: str
    created: str
    state: str = "queued"
    fraction: float = 0.0
    messages: list[str] = field(default_factory=list)
    error: str = ""
    finished: str = ""

    @property
    def final(self) -> bool:
        """Whether the job will not change any more."""
        return self.state in FINAL


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def valid_id(text: str) -> bool:
    """Whether ``text`` is a well-formed job id (checked before it names a folder)."""
    return len(text) == ID_LENGTH and all(c in "0123456789abcdef" for c in text)


#: What a job runs: (job, progress callback) -> None; it writes the job's results folder.
Runner = Callable[[Job, Callable[[str], None], Path], None]


class Progress:
    """A running job's progress: ``say(message)`` records a line, and raises
    :class:`Cancelled` once the user asked the job to stop (cooperative cancelling); a job
    that waits on something else (the Dask cluster) asks :meth:`stopped` instead."""

    def __init__(self, pool: JobPool, job: Job, stop: threading.Event) -> None:
        self._pool, self._job, self._stop = pool, job, stop

    def __call__(self, message: str) -> None:
        if self._stop.is_set():
            raise Cancelled
        self._pool._say(self._job, message)

    def stopped(self) -> bool:
        """Whether the user asked the job to stop."""
        return self._stop.is_set()


class JobPool:
    """The jobs of one server: stored under ``folder``, run by ``workers`` threads."""

    def __init__(self, folder: Path, workers: int = 2, max_queued: int = 8) -> None:
        self.folder = folder
        self.max_queued = max_queued
        self._jobs: dict[str, Job] = {}
        self._futures: dict[str, Future[None]] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fm-job")
        self._reopen()  # the folder itself is made by the first job: mounting writes nothing

    # --- storage ------------------------------------------------------------------------

    def job_dir(self, job_id: str) -> Path:
        """The folder of a job."""
        return self.folder / job_id

    def results_dir(self, job_id: str) -> Path:
        """The results folder of a job (present once it is done)."""
        return self.job_dir(job_id) / "results"

    def _save(self, job: Job) -> None:
        folder = self.job_dir(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".job.json.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(json.dumps(asdict(job), indent=1), encoding="utf-8")
        os.replace(tmp, folder / "job.json")

    def _reopen(self) -> None:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*/job.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                job = Job(**data)
            except (OSError, ValueError, TypeError):
                continue  # a foreign or damaged file: not a job of ours
            if not valid_id(job.id) or path.parent.name != job.id:
                continue
            if not job.final:
                job.state, job.error, job.finished = "interrupted", "the server stopped", _now()
                self._save(job)
            self._jobs[job.id] = job

    # --- jobs ---------------------------------------------------------------------------

    def submit(
        self, kind: str, scenario: str, source: str, owner: str, owner_role: str, run: Runner
    ) -> Job:
        """Queue a job; raises :class:`JobRefused` when too many wait already."""
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.state == "queued")
            if waiting >= self.max_queued:
                raise JobRefused(
                    f"{waiting} runs are waiting already; try again when one has finished"
                )
            job_id = secrets.token_hex(ID_LENGTH // 2)
            job = Job(job_id, kind, scenario, source, owner, owner_role, _now())
            self._jobs[job_id] = job
            self._cancel[job_id] = threading.Event()
            self._save(job)
            self._futures[job_id] = self._executor.submit(self._run, job, run)
        return job

    def _progress(self, job: Job) -> Progress:
        return Progress(self, job, self._cancel[job.id])

    def _say(self, job: Job, message: str) -> None:
        with self._lock:
            job.messages.append(message)
            for i, step in enumerate(SIMULATE_STEPS):
                if message.startswith(step):
                    job.fraction = max(job.fraction, (i + 1) / (len(SIMULATE_STEPS) + 1))
            self._save(job)

    def _run(self, job: Job, run: Runner) -> None:
        if self._cancel[job.id].is_set():
            return
        with self._lock:
            job.state = "running"
            self._save(job)
        try:
            run(job, self._progress(job), self.results_dir(job.id))
        except Cancelled:
            self._finish(job, "cancelled", "cancelled by the user")
        except Exception as exc:  # shown to the user on the job's page, never a traceback
            self._finish(job, "failed", str(exc) or type(exc).__name__)
        else:
            if self._cancel[job.id].is_set() and not self.results_dir(job.id).exists():
                self._finish(job, "cancelled", "cancelled by the user")
            else:
                self._finish(job, "done", "")

    def _finish(self, job: Job, state: str, error: str) -> None:
        with self._lock:
            job.state, job.error, job.finished = state, error, _now()
            if state == "done":
                job.fraction = 1.0
            self._save(job)

    def cancel(self, job_id: str) -> bool:
        """Ask a job to stop; False when it had finished already."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.final:
                return False
            self._cancel[job_id].set()
            future = self._futures.get(job_id)
            if job.state == "queued" and future is not None and future.cancel():
                job.state, job.error, job.finished = "cancelled", "cancelled by the user", _now()
                self._save(job)
        return True

    def get(self, job_id: str) -> Job | None:
        """The job of the id, or None."""
        return self._jobs.get(job_id) if valid_id(job_id) else None

    def snapshot(self, job_id: str) -> dict[str, Any] | None:
        """A consistent copy of the job's fields (for the progress stream)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else asdict(job)

    def all(self) -> list[Job]:
        """Every job, newest first."""
        return sorted(self._jobs.values(), key=lambda j: (j.created, j.id), reverse=True)

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until the job has run (for the command line and tests)."""
        future = self._futures.get(job_id)
        if future is not None and not future.cancelled():
            future.result(timeout)

    def shutdown(self) -> None:
        """Stop taking jobs; cancel the waiting ones and let the running ones finish."""
        for job in list(self._jobs.values()):
            if job.state == "queued":
                self.cancel(job.id)
        self._executor.shutdown(wait=False, cancel_futures=True)
