"""Run a sweep over a ``concurrent.futures`` executor: a local process pool or a Dask cluster.

One code path: the driver submits batches of runs to an :class:`~concurrent.futures.Executor`
(a :class:`~concurrent.futures.ProcessPoolExecutor`, or the executor of a
``distributed.Client``), keeps a bounded number in flight (memory does not grow with the
number of runs) and writes each batch's rows as it finishes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from forcemodel.common.errors import Problem
from forcemodel.sweep.spec import Plan, SweepError
from forcemodel.sweep.worker import batch_size, run_batch

#: progress(done, total, failed): called after each batch (the display's business).
Progress = Callable[[int, int, int], None]


@dataclass
class Cluster:
    """Where runs go: an executor and how many workers it has."""

    executor: Executor
    workers: int
    where: str


def connect(address: str, timeout_s: float = 5.0) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``; a located error if unreachable."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepError(
            [Problem("--scheduler", None, "", "needs dask[distributed]: pip install forcemodel")]
        ) from None
    if not address.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://", "ucx://")):
        raise SweepError(
            [Problem(f"--scheduler {address}", None, "", "an address such as tcp://HOST:PORT")]
        )
    try:
        return Client(address, timeout=f"{timeout_s}s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise SweepError(
            [
                Problem(
                    f"--scheduler {address}",
                    None,
                    "",
                    f"cannot reach the Dask scheduler ({type(exc).__name__}: {exc})",
                )
            ]
        ) from None


@contextmanager
def cluster(workers: int = 0, scheduler: str | Any | None = None) -> Iterator[Cluster]:
    """An executor: the Dask cluster at ``scheduler`` (an address or a Client), else a pool.

    ``workers``: processes of the local pool (0: one per CPU); ignored with a scheduler.
    A :class:`Cluster` given as ``scheduler`` is used as it is (kept open: benchmarks reuse
    warm workers).
    """
    if isinstance(scheduler, Cluster):
        yield scheduler
        return
    if scheduler is not None:
        own = isinstance(scheduler, str)
        client = connect(scheduler) if isinstance(scheduler, str) else scheduler
        try:
            n = max(1, len(client.scheduler_info().get("workers", {})))
            # pure=False: no hashing of the (large) plan to name each task.
            yield Cluster(client.get_executor(pure=False), n, str(client.scheduler.address))
        finally:
            if own:
                client.close()
        return
    n = workers if workers > 0 else (os.cpu_count() or 1)
    # forkserver: workers start clean (no threads of the driver, such as the progress display).
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx)
    try:
        yield Cluster(pool, n, f"local pool of {n}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def execute(
    plan: Plan,
    todo: Sequence[int],
    where: Cluster,
    write: Callable[[list[dict[str, Any]]], None],
    progress: Progress | None = None,
    done_before: int = 0,
) -> int:
    """Run ``todo`` in batches, writing each batch's rows as it finishes; the failures.

    An interruption (Ctrl-C) cancels what has not started; what was written stays, so the
    sweep resumes from there.
    """
    size = batch_size(len(todo), where.workers)
    batches = [list(todo[i : i + size]) for i in range(0, len(todo), size)]
    limit = max(2, 2 * where.workers)
    pending: set[Future[list[dict[str, Any]]]] = set()
    sizes: dict[Future[list[dict[str, Any]]], int] = {}
    done, failed, total = done_before, 0, done_before + len(todo)
    it = iter(batches)
    try:
        while True:
            while len(pending) < limit:
                batch = next(it, None)
                if batch is None:
                    break
                fut = where.executor.submit(run_batch, plan, batch)
                pending.add(fut)
                sizes[fut] = len(batch)
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                rows = fut.result()
                write(rows)
                failed += len({r["run"] for r in rows if r.get("error")})
                done += sizes.pop(fut)
                if progress is not None:
                    progress(done, total, failed)
    except BaseException:
        for fut in pending:
            fut.cancel()
        raise
    return failed
