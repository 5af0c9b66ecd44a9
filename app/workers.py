"""Worker processes for the slow, CPU-heavy work a request may ask for: rendering a PDF,
checking an imported backup.

Python runs one thread at a time in a process. Work like this done in a thread of the server
still takes turns with the event loop and every other request: a save waited behind it, and a
save waiting for SQLite's write lock waited longer still, because the request holding the lock
got fewer turns. In a process of its own it runs beside the server instead, and at a lower
CPU priority: when the machine is busy, the server's answers come first and a PDF waits a
little longer (a patient's save took half as long, median, during imports and PDF downloads:
bench/write_path.py).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

Result = TypeVar("Result")


class WorkerPool:
    """Up to `max_workers` processes, started on first use. A crashed process (killed for
    memory, say) fails the calls it was running; the next call gets fresh processes."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, work: Callable[..., Result], *args: Any) -> Future[Result]:
        with self._lock:
            if self._executor is None:
                # "spawn": a fresh interpreter, not a fork of a process full of threads.
                self._executor = ProcessPoolExecutor(
                    max_workers=self.max_workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=start_worker,
                    initargs=(os.getpid(),),
                )
            executor = self._executor
        try:
            return executor.submit(work, *args)
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:
                    self._executor = None
            raise

    def call(self, work: Callable[..., Result], *args: Any, timeout: float) -> Result:
        """`work(*args)` in a worker, waited for in this thread."""
        return self.submit(work, *args).result(timeout=timeout)

    async def run(self, work: Callable[..., Result], *args: Any, timeout: float) -> Result:
        """`work(*args)` in a worker, awaited on the event loop (no thread waits for it)."""
        return await asyncio.wait_for(asyncio.wrap_future(self.submit(work, *args)), timeout)


# How much lower a worker's CPU priority is than the server's (Unix niceness; 10 of 19).
WORKER_NICENESS = 10


def start_worker(parent: int) -> None:
    """In a new worker: yield the CPU to the server (WORKER_NICENESS), and exit once the app's
    process is gone (a restart, a crash, SIGTERM). Without that a worker outlived the server,
    a 250 MB process left behind by every restart."""
    os.nice(WORKER_NICENESS)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


# PDF rendering (app.pdf): one process, about 250 MB with WeasyPrint loaded.
PDFS = WorkerPool(max_workers=1)
# Checking an uploaded backup (services.backup.check_import): one at a time; imports are rare,
# and a second one waits its turn in the queue. A 9 MB file takes about half a second.
IMPORTS = WorkerPool(max_workers=1)
IMPORT_CHECK_TIMEOUT_SECONDS = 120.0
