"""Where the jobs run: on this machine's cores (the default), or on a Dask cluster.

Local: each worker is a job process forked from a warm server (multiprocessing's
forkserver, with nbgrader and the steps already imported) that grades one
submission after another, so a job pays for no start-up; all their kernels fork
from one warm kernel server (sandbox/warm.py). The job process never
runs student code (kernels run in the sandbox), and a job leaves the process as
it found it (job.py). A job process that dies fails only the submission it was
grading; the next job gets a fresh one. Up to ``workers`` jobs run at once.

Dask: jobs run in the cluster's worker processes, one job per worker thread, each in
the worker's own folder (``--local-directory``); run the workers as root, with the
course checkout importable and ``--nthreads 1`` (a job sets the grader's secret in its
process while it runs). The course data is sent to every worker once. Use a tls://
scheduler address, with Dask's TLS settings, where the cluster is shared; the kernels
on the workers have no network, so they cannot reach the scheduler or the workers.
"""
from __future__ import annotations

import multiprocessing
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed

from sqlalchemy.exc import SAWarning

from ..lifetime import die_with_parent
from ..sandbox import warm
from .job import grade


def _serve(conn, course: dict) -> None:
    """A job process: grade each job that arrives until the coordinator hangs up."""
    die_with_parent()
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's own, harmless, once per submission: not for the TA
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        conn.send(grade(course, job))


class Local:
    def __init__(self, course: dict, workers: int, warm_kernels: bool = True):
        self.course, self.workers = course, workers
        if warm_kernels:  # before the fork server starts: every job's kernels then come from this one server
            warm.ensure_server()
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload([f"{__package__}.preload"])
        self.pool = ThreadPoolExecutor(workers)
        self.mine = threading.local()  # each pool thread's job process
        self.children = set()

    def submit(self, job: dict):
        return self.pool.submit(self._in_job_process, job)

    def _job_process(self):
        child = getattr(self.mine, "child", None)
        if child is None or not child[0].is_alive():
            receiver, sender = self.context.Pipe()
            process = self.context.Process(target=_serve, args=(sender, self.course), daemon=True)
            process.start()
            sender.close()
            child = self.mine.child = (process, receiver)
            self.children.add(process)
        return child

    def _in_job_process(self, job: dict) -> dict:
        process, conn = self._job_process()
        try:
            conn.send(job)
            return conn.recv()
        except (EOFError, OSError):
            process.join()
            self.children.discard(process)
            self.mine.child = None
            return {"student": job["student"], "ok": False,
                    "error": f"the grading process died (exit code {process.exitcode})"}

    @staticmethod
    def completed(futures):
        return as_completed(futures)

    def close(self) -> None:
        """Stop now: kill the job processes (their kernels die with them) and drop the queued jobs."""
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
