"""Simulations and optimisations of the dashboard on the Dask cluster, when one is configured.

When ``FORCEMODEL_DASK_SCHEDULER`` names a scheduler (``tcp://HOST:PORT``), a simulation or
an optimisation started from the page is submitted to the cluster through the executor of a
``distributed.Client`` (``client.get_executor()``, as sweeps and attacks are: no protocol of
our own); the server's pool thread only waits for it.

- **What travels**: the scenario itself (an uploaded scenario's folder is on the server, not
  on the workers), and back the files the job writes (its ``results/`` folder, and ``plan/``
  for an optimisation), written into the job's folder here, each folder whole or not at all.
- **Progress**: the engine's progress lines (a simulation's steps, the optimiser's stage,
  incumbent, bound and gap) are sent from the worker as Dask events on the job's topic
  (``Worker.log_event``) and reach the run's page as a local run's do; what arrives after the
  result (events travel apart from it) is read back from the scheduler's log, so no line is
  lost. What a remote run does not show: nothing of the engine's output but these lines (its
  log, as locally), and the page learns of a worker's death only from the failed future.
- **Cancel**: *Cancel* sets a ``distributed.Event`` of the job that the remote progress checks
  (the engine stops at its next progress line, as locally) and cancels the future (a run still
  waiting in the cluster's queue never starts).
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import wait
from pathlib import Path
from typing import Any

from forcemodel.common.folders import staged_folder
from forcemodel.web.jobs import Cancelled

#: Environment variable naming the Dask scheduler (tcp://HOST:PORT) of the dashboard's runs.
SCHEDULER_ENV = "FORCEMODEL_DASK_SCHEDULER"
#: Seconds between two looks at a cancel request while the cluster runs the job.
POLL_S = 0.25

#: A job's work: (progress, folder, *args) -> None; writes under folder (results/, plan/).
Task = Callable[..., None]


class RemoteCancelled(Exception):
    """Raised on the worker when the job's cancel event is set."""


def scheduler() -> str | None:
    """The Dask scheduler the dashboard's runs go to, or None (the server's pool)."""
    return os.environ.get(SCHEDULER_ENV) or None


def run_on_cluster(
    address: str,
    job_id: str,
    say: Callable[[str], None],
    stopped: Callable[[], bool],
    folder: Path,
    task: Task,
    *args: Any,
) -> None:
    """Run ``task(progress, tmp, *args)`` on the cluster at ``address``; write what it wrote
    under ``folder``. ``say`` gets its progress lines; ``stopped()`` says the user cancelled
    (then the remote engine is told to stop, the future cancelled and
    :class:`~forcemodel.web.jobs.Cancelled` raised).
    """
    from distributed import Event

    from forcemodel.sweep.run import connect

    topic, stop_name = f"forcemodel-job-{job_id}", f"forcemodel-cancel-{job_id}"
    lock = threading.Lock()
    seen = [0]

    def relay(n: int, message: str) -> None:
        with lock:  # once each, in order, from the subscription's thread or this one
            if n <= seen[0]:
                return
            seen[0] = n
            try:
                say(message)
            except Cancelled:  # the wait below notices, and stops the remote job
                return

    client = connect(address)
    try:
        client.subscribe_topic(topic, lambda event: relay(int(event[1][0]), str(event[1][1])))
        say(f"sent to the Dask cluster at {address}")
        executor = client.get_executor(pure=False)
        future = executor.submit(remote_task, topic, stop_name, task, *args)
        while not wait([future], timeout=POLL_S).done:
            if stopped():
                Event(stop_name, client=client).set()  # type: ignore[no-untyped-call]
                future.cancel()
                raise Cancelled
        files: dict[str, bytes] = future.result()
        client.unsubscribe_topic(topic)
        for _time, (n, message) in client.get_events(topic):  # lines that came after it
            relay(int(n), str(message))
    finally:
        client.close()
    say("results received from the cluster")
    write_files(folder, files)


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative paths) under ``folder``: each top folder whole or not at all."""
    tops: dict[str, dict[Path, bytes]] = {}
    for name, data in files.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or len(rel.parts) < 2:
            raise ValueError(f"the cluster sent an unexpected file: {name}")
        tops.setdefault(rel.parts[0], {})[Path(*rel.parts[1:])] = data
    for top, inside in sorted(tops.items()):
        with staged_folder(folder / top) as tmp:
            for rel, data in sorted(inside.items()):
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                (tmp / rel).write_bytes(data)


def remote_task(topic: str, stop_name: str, task: Task, *args: Any) -> dict[str, bytes]:
    """On a worker: run the task into a temporary folder, its progress as events of
    ``topic``; the files it wrote, by relative path."""
    from distributed import Event, get_worker

    worker = get_worker()
    stop = Event(stop_name)  # type: ignore[no-untyped-call]
    count = [0]

    def progress(message: str) -> None:
        if stop.is_set():  # type: ignore[no-untyped-call]
            raise RemoteCancelled("cancelled by the user")
        count[0] += 1
        worker.log_event(topic, [count[0], message])

    with tempfile.TemporaryDirectory(prefix="forcemodel-job-") as tmp:
        root = Path(tmp)
        task(progress, root, *args)
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
