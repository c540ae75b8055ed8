"""Matching off the event loop: a bounded queue of match jobs and one thread that runs them.

A match may take seconds of CPU. Run in the threads that serve requests, 45 concurrent matches
held every thread (one solve at a time, the others waiting their turn), and reads waited
behind them for over a minute. Here a match is a job: ``POST /match/jobs`` puts it on a
bounded queue and answers 202 with its id at once; one thread of its own (not one of the
request threads) runs the jobs in turn; ``GET /match/jobs/{id}`` answers how far it has got
and, when done, its result. ``POST /match`` submits a job and waits for it without holding a
thread (the request awaits on the event loop), so it answers as before. A full queue refuses
a new job with 503 and ``Retry-After``.

Jobs live in the memory of the server process that took them (the last
:data:`KEEP_FINISHED` finished ones are kept): with several server processes, poll the one
that answered (docs/service.md, "Deployment").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import queue
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from forcemodel.service.auth import Principal
from forcemodel.service.matching import MatchOut, match_records
from forcemodel.service.records import RecordError

log = logging.getLogger(__name__)

#: Finished jobs kept for polling; older ones are forgotten (404).
KEEP_FINISHED = 1000
#: Seconds a client should wait before submitting again to a full queue.
RETRY_AFTER_S = 10

JobStatus = Literal["queued", "running", "done", "failed"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Job:
    """One match: who asked, what, how far it has got, and its result or why it failed."""

    id: str
    actor: Principal
    apply: bool
    time_limit: float
    status: JobStatus = "queued"
    submitted_at: dt.datetime = field(default_factory=_now)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    result: MatchOut | None = None
    error: RecordError | None = None
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(
        default_factory=list, repr=False
    )


class MatchQueue:
    """The bounded queue of match jobs and the thread that runs them (module docstring)."""

    def __init__(self, sessions: Callable[[], Session], size: int) -> None:
        self.sessions = sessions
        self.size = size
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=size)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="forcemodel-matcher", daemon=True)
        self._thread.start()

    def submit(self, actor: Principal, *, apply: bool, time_limit: float) -> Job:
        """Queue a match; RecordError 503 (with Retry-After) when the queue is full."""
        job = Job(secrets.token_hex(16), actor, apply, time_limit)
        with self._lock:
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                raise RecordError(
                    503,
                    f"the matcher has {self.size} matches waiting already; try again later",
                    headers={"Retry-After": str(RETRY_AFTER_S)},
                ) from None
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        """The job of the id, while it is kept."""
        return self._jobs.get(job_id)

    def waiting(self) -> int:
        """How many jobs wait to be run."""
        return self._queue.qsize()

    async def wait(self, job: Job) -> None:
        """Wait until the job has finished, without holding a thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if job._finished.is_set():
                return
            job._waiters.append((loop, future))
        await future

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread after the job it runs (queued jobs are dropped)."""
        with self._lock:
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put_nowait(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            job.status, job.started_at = "running", _now()
            try:
                job.result = match_records(
                    self.sessions, job.actor, apply=job.apply, time_limit=job.time_limit
                )
                job.status = "done"
            except RecordError as exc:
                job.error, job.status = exc, "failed"
            except Exception as exc:  # a bug: the job fails, the thread goes on
                log.exception("match job %s failed", job.id)
                job.error = RecordError(500, f"the matcher failed: {type(exc).__name__}: {exc}")
                job.status = "failed"
            self._finish(job)

    def _finish(self, job: Job) -> None:
        with self._lock:
            job.finished_at = _now()
            job._finished.set()
            waiters, job._waiters = job._waiters, []
            finished = [k for k, j in self._jobs.items() if j._finished.is_set()]
            for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
                del self._jobs[key]
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # the waiting request may have gone (client disconnected)
        future.set_result(None)
