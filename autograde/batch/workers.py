"""Where the jobs run: on this machine's cores (the default), or on a Dask cluster.

Local: each job runs in a fresh process forked from a warm server (multiprocessing's
forkserver, with nbgrader and the steps already imported), so a job starts in
milliseconds, leaves nothing behind for the next one, and a job process that dies
fails only its own submission. Up to ``workers`` jobs run at once.

Dask: jobs run in the cluster's worker processes, one job per worker thread, each in
the worker's own folder (``--local-directory``); run the workers as root, with the
course checkout importable and ``--nthreads 1`` (a job sets the grader's secret in its
process while it runs). The course data is sent to every worker once. Use a tls://
scheduler address, with Dask's TLS settings, where the cluster is shared; the kernels
on the workers have no network, so they cannot reach the scheduler or the workers.
"""
from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed

from sqlalchemy.exc import SAWarning

from ..lifetime import die_with_parent
from .job import grade


def _child(conn, course: dict, job: dict) -> None:
    die_with_parent()
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's own, harmless, once per submission: not for the TA
    conn.send(grade(course, job))
    conn.close()


class Local:
    def __init__(self, course: dict, workers: int):
        self.course, self.workers = course, workers
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload([f"{__package__}.preload"])
        self.pool = ThreadPoolExecutor(workers)
        self.children = set()

    def submit(self, job: dict):
        return self.pool.submit(self._isolated, job)

    def _isolated(self, job: dict) -> dict:
        receiver, sender = self.context.Pipe(duplex=False)
        child = self.context.Process(target=_child, args=(sender, self.course, job), daemon=True)
        child.start()
        self.children.add(child)
        sender.close()
        try:
            return receiver.recv()
        except EOFError:
            child.join()
            return {"student": job["student"], "ok": False,
                    "error": f"the grading process died (exit code {child.exitcode})"}
        finally:
            receiver.close()
            child.join()
            self.children.discard(child)

    @staticmethod
    def completed(futures):
        return as_completed(futures)

    def close(self) -> None:
        """Stop now: kill the running jobs (their kernels die with them) and drop the queued ones."""
        for child in list(self.children):
            child.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _on_worker(course: dict, job: dict) -> dict:
    from distributed import get_worker
    return grade(course, job, workdir=get_worker().local_directory)


class Cluster:
    def __init__(self, course: dict, address: str):
        from distributed import Client
        self.client = Client(address)
        self.course = self.client.scatter(course, broadcast=True)
        self.workers = sum(w["nthreads"] for w in self.client.scheduler_info()["workers"].values())

    def submit(self, job: dict):
        return self.client.submit(_on_worker, self.course, job, pure=False)

    @staticmethod
    def completed(futures):
        from distributed import as_completed as dask_completed
        return dask_completed(futures)

    def close(self) -> None:
        self.client.close()
