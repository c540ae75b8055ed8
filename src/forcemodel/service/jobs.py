"""Matching off the event loop: a bounded queue of match jobs and one thread that runs them.

A match may take seconds of CPU. Run in the threads that serve requests, 45 concurrent matches
held every thread (one solve at a time, the others waiting their turn), and reads waited
behind them for over a minute. Here a match is a job: ``POST /match/jobs`` puts it on a
bounded queue and answers 202 with its id at once; one thread of its own (not one of the
request threads) runs the jobs in turn, each in a worker process of its own (one, kept for the
next job), so that building and solving the model never holds the server's interpreter lock
while requests are served (in a thread it made reads 19 times slower on SQLite);
``GET /match/jobs/{id}`` answers how far it has got and, when done, its result.
``POST /match`` submits a job and waits for it without holding a thread (the request awaits
on the event loop), so it answers as before. A full queue refuses
a new job with 503 and ``Retry-After``.

Jobs live in the memory of the server process that took them (the last
:data:`KEEP_FINISHED` finished ones are kept): with several server processes, poll the one
that answered (docs/service.md, "Deployment").

The same queue runs the board's assistance plan (:mod:`forcemodel.service.planning`): a job of
kind ``plan``, submitted by the board's page, whose result is the matcher's whole result (the
training pipeline and the hubs included); the API's match routes never see those jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import queue
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, Literal

from sqlalchemy.orm import Session

from forcemodel.assist import MatchResult
from forcemodel.service.auth import Principal
from forcemodel.service.matching import MatchOut, match_records
from forcemodel.service.planning import plan_records
from forcemodel.service.records import RecordError

log = logging.getLogger(__name__)

#: Finished jobs kept for polling; older ones are forgotten (404).
KEEP_FINISHED = 1000
#: Seconds a client should wait before submitting again to a full queue.
RETRY_AFTER_S = 10

JobStatus = Literal["queued", "running", "done", "failed"]
JobKind = Literal["match", "plan"]


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
    #: ``plan``: the board's assistance plan (its result in ``plan``), not a match.
    kind: JobKind = "match"
    plan: MatchResult | None = None
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(
        default_factory=list, repr=False
    )


#: Runs one match: (the caller, apply, time limit) to its result; raises RecordError.
Runner = Callable[[Principal, bool, float], MatchOut]
#: Makes the board's assistance plan: the time limit to the matcher's result; raises RecordError.
PlanRunner = Callable[[float], MatchResult]


def run_here(sessions: Callable[[], Session]) -> Runner:
    """A runner that matches in the calling thread (the command line; tests)."""

    def run(actor: Principal, apply: bool, time_limit: float) -> MatchOut:
        return match_records(sessions, actor, apply=apply, time_limit=time_limit)

    return run


def plan_here(sessions: Callable[[], Session]) -> PlanRunner:
    """A plan runner that plans in the calling thread (a database in the process's memory)."""

    def run(time_limit: float) -> MatchResult:
        return plan_records(sessions, time_limit)

    return run


class InWorkerProcess:
    """A runner that matches in a worker process of its own, on the database of the URL.

    The process starts with the first match (spawned: nothing of the server's state is
    shared) and is kept for the next; it opens its own connections to the database.
    """

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=get_context("spawn"), initializer=_yield_to_the_server
        )

    def __call__(self, actor: Principal, apply: bool, time_limit: float) -> MatchOut:
        future = self._pool.submit(_match_in_worker, self.database_url, actor, apply, time_limit)
        outcome, value = future.result()
        if outcome == "failed":
            status, message, loc, rule, headers = value
            raise RecordError(status, message, tuple(loc), rule, headers)
        assert isinstance(value, MatchOut)
        return value

    def plan(self, time_limit: float) -> MatchResult:
        """The board's assistance plan, made in the worker process."""
        future = self._pool.submit(_plan_in_worker, self.database_url, time_limit)
        outcome, value = future.result()
        if outcome == "failed":
            status, message, loc, rule, headers = value
            raise RecordError(status, message, tuple(loc), rule, headers)
        assert isinstance(value, MatchResult)
        return value

    def close(self) -> None:
        """Stop the worker process."""
        self._pool.shutdown(wait=False, cancel_futures=True)


#: How much lower the worker's CPU priority is than the server's (nice, 0 to 19).
WORKER_NICENESS = 10


def _yield_to_the_server() -> None:
    """In the worker: let the server's requests have the CPU first (a match can wait)."""
    with contextlib.suppress(OSError, AttributeError):  # not every system has nice
        os.nice(WORKER_NICENESS)


#: The worker process's sessions, made at its first match.
_worker_sessions: dict[str, Callable[[], Session]] = {}


def _match_in_worker(
    database_url: str, actor: Principal, apply: bool, time_limit: float
) -> tuple[str, Any]:
    """In the worker process: the match, or why it failed (a RecordError does not pickle)."""
    from forcemodel.service.db import make_engine, session_factory

    if database_url not in _worker_sessions:
        _worker_sessions[database_url] = session_factory(make_engine(database_url))
    try:
        result = match_records(
            _worker_sessions[database_url], actor, apply=apply, time_limit=time_limit
        )
    except RecordError as exc:
        return "failed", (exc.status, exc.message, list(exc.loc), exc.rule, exc.headers)
    return "done", result


def _plan_in_worker(database_url: str, time_limit: float) -> tuple[str, Any]:
    """In the worker process: the board's plan, or why it failed."""
    from forcemodel.service.db import make_engine, session_factory

    if database_url not in _worker_sessions:
        _worker_sessions[database_url] = session_factory(make_engine(database_url))
    try:
        result = plan_records(_worker_sessions[database_url], time_limit)
    except RecordError as exc:
        return "failed", (exc.status, exc.message, list(exc.loc), exc.rule, exc.headers)
    return "done", result


class MatchQueue:
    """The bounded queue of match jobs and the thread that runs them (module docstring).

    ``plan`` makes the board's assistance plan (jobs of kind ``plan``); without it those
    jobs fail with 503.
    """

    def __init__(self, run: Runner, size: int, plan: PlanRunner | None = None) -> None:
        self.run = run
        self.plan = plan
        self.size = size
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=size)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="forcemodel-matcher", daemon=True)
        self._thread.start()

    def submit(self, actor: Principal, *, apply: bool, time_limit: float) -> Job:
        """Queue a match; RecordError 503 (with Retry-After) when the queue is full."""
        return self._put(Job(secrets.token_hex(16), actor, apply, time_limit))

    def submit_plan(self, actor: Principal, *, time_limit: float) -> Job:
        """Queue the board's assistance plan; RecordError 503 when the queue is full."""
        return self._put(Job(secrets.token_hex(16), actor, False, time_limit, kind="plan"))

    def _put(self, job: Job) -> Job:
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
        close = getattr(self.run, "close", None)
        if close is not None:
            close()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            job.status, job.started_at = "running", _now()
            try:
                if job.kind == "plan":
                    if self.plan is None:
                        raise RecordError(503, "this server makes no assistance plans")
                    job.plan = self.plan(job.time_limit)
                else:
                    job.result = self.run(job.actor, job.apply, job.time_limit)
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
