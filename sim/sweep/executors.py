"""Where runs execute: in this process, on local cores, or on a Dask cluster.

All executors offer the same three calls: ``submit(fn, *args) -> handle``,
``wait(handles) -> finished handles`` and ``result(handle)``. ``result`` raises when the
worker itself died (a crashed process, a lost Dask worker); errors inside a run come back
as a failed `RunOutcome` instead. ``slots`` is how many runs to keep in flight.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "dask_setup",
    "die_with_parent",
    "make_executor",
    "stop_pool",
]

EXECUTORS = ("serial", "process", "dask")
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


#: Linux ``prctl`` option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _watch_parent(parent: int, every_s: float) -> None:
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(1)


def die_with_parent(parent: int, every_s: float = 1.0) -> None:
    """Pool worker initializer: end this worker when the driver ``parent`` dies, even by
    ``kill -9`` (which gives the driver no chance to stop its pool).

    On Linux the kernel kills the worker at once (``prctl(PR_SET_PDEATHSIG, SIGKILL)``);
    elsewhere a daemon thread checks every ``every_s`` seconds whether the parent is still
    the driver. [s]
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
            if os.getppid() != parent:  # the driver died before prctl took effect
                os._exit(1)
            return
    except (OSError, AttributeError):  # not Linux
        pass
    threading.Thread(target=_watch_parent, args=(parent, every_s), daemon=True).start()


def dask_setup(worker: Any) -> None:
    """Dask preload hook of the LocalCluster workers (``preload=["sim.sweep.executors"]``):
    ignore SIGINT, so that Ctrl-C in a terminal, which reaches the whole process group,
    stops the sweep through the driver (which closes the cluster) instead of every worker
    printing a KeyboardInterrupt traceback. Workers started with the cluster inherit the
    ignored signal already (`_sigint_ignored`); this covers workers a nanny restarts."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process while the body runs (main thread only): processes
    started meanwhile inherit the ignored signal from the very start, before their own
    set-up could be interrupted half-way. A Ctrl-C meanwhile is lost, not deferred."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel the queued work of ``pool`` and end its worker processes now."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # no public API in 3.11
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()


class Executor:
    """Base class: a context manager with ``submit``, ``wait`` and ``result``."""

    name = "base"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def slots(self) -> int:
        """Runs to keep in flight."""
        return 1

    def describe(self) -> str:
        """One line saying where runs go."""
        return self.name

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    def wait(self, handles: Iterable[Any]) -> set[Any]:
        """Block until at least one handle is finished; return the finished ones."""
        done, _ = cf.wait(list(handles), return_when=cf.FIRST_COMPLETED)
        return set(done)

    def result(self, handle: Any) -> Any:
        return handle.result()

    def cancel(self, handles: Iterable[Any]) -> None:
        """Cancel runs not started yet (on Ctrl-C)."""
        for handle in handles:
            handle.cancel()

    def close(self) -> None:
        """Release workers."""


class SerialExecutor(Executor):
    """Runs each task in this process, at submit time (no parallelism)."""

    name = "serial"

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - surfaced by result()
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


class ProcessExecutor(Executor):
    """Local cores through `ProcessPoolExecutor` with the ``spawn`` start method.

    ``spawn`` starts clean interpreters (no forked locks or threads), the same on Linux,
    macOS and Windows. A crashed worker breaks the pool; it is rebuilt on the next submit.
    Workers end when this process dies, even by ``kill -9`` (`die_with_parent`).

    Args:
        workers: Worker processes; default all cores.
    """

    name = "process"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool = self._new_pool()
        self._stopped = False

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )

    @property
    def slots(self) -> int:
        return 2 * self.workers

    def describe(self) -> str:
        return f"process pool, {self.workers} workers"

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        try:
            return self._pool.submit(fn, *args)
        except cf.process.BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(fn, *args)

    def cancel(self, handles: Iterable[Any]) -> None:
        """Stop now (Ctrl-C, SIGTERM): queued runs are dropped and the workers ended, so
        runs under way are lost (they run again when the sweep resumes)."""
        stop_pool(self._pool)
        self._stopped = True

    def close(self) -> None:
        self._pool.shutdown(wait=not self._stopped, cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask cluster: a new LocalCluster, or an existing scheduler by address.

    Args:
        scheduler: ``tcp://HOST:PORT`` of a running scheduler; default the
            ``DASK_SCHEDULER_ADDRESS`` environment variable, else a LocalCluster.
        workers: LocalCluster worker processes; default all cores.
        local_directory: LocalCluster scratch folder for spill and worker files.
        processes: LocalCluster workers as processes (True) or threads in this process.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        workers: int | None = None,
        local_directory: str | Path | None = None,
        processes: bool = True,
    ) -> None:
        from distributed import Client, LocalCluster

        self.address = scheduler or os.environ.get(SCHEDULER_ENV) or None
        self.cluster = None
        if self.address:
            self.client = Client(self.address, timeout="20s")
        else:
            if local_directory is not None:
                Path(local_directory).mkdir(parents=True, exist_ok=True)
            with _sigint_ignored():  # workers start ignoring Ctrl-C (`dask_setup`)
                self.cluster = LocalCluster(
                    n_workers=workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=processes,
                    local_directory=str(local_directory) if local_directory else None,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                    preload=[__name__] if processes else [],  # `dask_setup` in each worker
                )
                self.client = Client(self.cluster)
        self._slots = 2

    @property
    def slots(self) -> int:
        # Workers may join or leave a real cluster while the sweep runs.
        threads = sum(self.client.nthreads().values())
        self._slots = max(2, 2 * threads)
        return self._slots

    def describe(self) -> str:
        threads = sum(self.client.nthreads().values())
        where = self.address or "LocalCluster"
        return f"dask {where}, {threads} worker threads"

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        task, attempt = args[0], args[-1]
        return self.client.submit(fn, *args, key=f"run-{task.key}-{attempt}", pure=False)

    def wait(self, handles: Iterable[Any]) -> set[Any]:
        from distributed import wait

        done, _ = wait(list(handles), return_when="FIRST_COMPLETED")
        return set(done)

    def result(self, handle: Any) -> Any:
        return handle.result()

    def cancel(self, handles: Iterable[Any]) -> None:
        self.client.cancel(list(handles))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(
    name: str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    scratch: str | Path | None = None,
    dask_processes: bool = True,
) -> Executor:
    """An executor by name.

    Args:
        name: ``serial``, ``process`` or ``dask``.
        workers: Local worker processes (process pool or LocalCluster).
        scheduler: Dask scheduler address (dask only).
        scratch: Folder for LocalCluster worker files.
        dask_processes: LocalCluster workers as processes (default) or threads.

    Raises:
        ValueError: unknown name.
    """
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    if name == "dask":
        local = Path(scratch) / "dask" if scratch is not None else None
        return DaskExecutor(scheduler, workers, local, dask_processes)
    raise ValueError(f"unknown executor {name!r} (choose from {', '.join(EXECUTORS)})")
