"""Where the jobs run: on this machine's cores (the default), or on a Dask cluster.

Local: each worker is a job process, with nbgrader and the steps already imported
(preload.py), that grades one submission after another, so a job pays for no
start-up; all their kernels fork from one warm kernel server (sandbox/warm.py).
The first job processes are forked from the coordinator as the batch starts, while
it runs no other thread: it has imported most of preload.py to read the course's
configuration, and a fork server would import all of it again (≈2 CPU s a batch).
A job process that has to be replaced later comes from multiprocessing's fork
server (with the same preload), as a fork of a process running threads is unsafe. The job process never
runs student code (kernels run in the sandbox), and a job leaves the process as
it found it (job.py). A job process that dies fails only the submission it was
grading; the next job gets a fresh one. Up to ``workers`` jobs run at once.

Every job has a wall-clock limit, ``c.Batch.job_seconds`` in nbgrader_config.py: past it
the job's process is killed (its kernels and judges die with it), the submission is
reported as failed with the reason, and the worker takes the next job. So a submission
that cannot be graded costs a batch at most that limit, at every run.

Dask: jobs run in the cluster's worker processes, one job per worker thread, each in
the worker's own folder (``--local-directory``); run the workers as root, with the
course checkout importable and ``--nthreads 1``. Each job runs in an interpreter of its
own, started by the worker, so that it can be killed at its limit. The course data is sent to every worker once. Use a tls://
scheduler address, with Dask's TLS settings, where the cluster is shared; the kernels
on the workers have no network, so they cannot reach the scheduler or the workers.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from sqlalchemy.exc import SAWarning
from traitlets import Float
from traitlets.config import Configurable

from .. import judge
from ..lifetime import die_with_parent
from ..sandbox import warm
from ..sandbox.box import BATCH_PREFIX, sweep
from .job import grade


class Batch(Configurable):
    job_seconds = Float(2400.0, help="Wall time for grading one submission (all its notebooks, judging and "
                                     "feedback); past it the job is killed and the submission fails.").tag(config=True)


def _too_long(student: str, seconds: float) -> dict:
    return {"student": student, "ok": False,
            "error": f"grading took longer than the job limit of {seconds:g} s (c.Batch.job_seconds) and was stopped"}


def _serve(conn, course: dict, workdir: str) -> None:
    """A job process: grade each job that arrives until the coordinator hangs up, with one judge for all
    their notebooks (judge.keep_one)."""
    die_with_parent()
    warnings.simplefilter("ignore", SAWarning)  # nbgrader's own, harmless, once per submission: not for the TA
    with judge.keep_one():
        while True:
            try:
                job = conn.recv()
            except EOFError:
                return
            conn.send(grade(course, job, workdir=workdir))


class Local:
    def __init__(self, course: dict, workers: int, warm_kernels: bool = True, job_seconds: float = 2400.0):
        self.course, self.workers, self.job_seconds = course, workers, job_seconds
        if warm_kernels:  # before any job process exists: every job's kernels then come from this one server
            warm.ensure_server()
        self.context = multiprocessing.get_context("forkserver")  # started only for a job process replaced
        self.context.set_forkserver_preload([f"{__package__}.preload"])
        self.pool = ThreadPoolExecutor(workers)
        # the jobs' folders: a killed job leaves its own; a killed batch's folder is swept by the next (box.sweep)
        self.workdir = tempfile.mkdtemp(prefix=f"{BATCH_PREFIX}{os.getpid()}-")
        self.mine = threading.local()  # each pool thread's job process
        self.children = set()
        self.first = None  # the job processes forked from here, until a pool thread takes each

    def submit(self, job: dict):
        if self.first is None:
            self.first = self._fork_first()
        return self.pool.submit(self._in_job_process, job)

    def _fork_first(self) -> list:
        """``workers`` job processes forked from this process, if no thread but this one runs (the pool's
        start with the first job), else none: the pool's threads then start theirs from the fork server."""
        if threading.active_count() > 1:
            return []
        from . import preload  # noqa: F401
        return [self._start(multiprocessing.get_context("fork")) for _ in range(self.workers)]

    def _job_process(self):
        child = getattr(self.mine, "child", None)
        if child is None or not child[0].is_alive():
            child = self.mine.child = self._next_process()
        return child

    def _next_process(self) -> tuple:
        """One of the first job processes still waiting for a thread, else a new one from the fork server."""
        while True:
            try:
                child = self.first.pop()  # (atomic: two pool threads may ask at once)
            except IndexError:
                return self._start(self.context)
            if child[0].is_alive():
                return child

    def _start(self, context) -> tuple:
        receiver, sender = context.Pipe()
        process = context.Process(target=_serve, args=(sender, self.course, self.workdir), daemon=True)
        process.start()
        sender.close()
        self.children.add(process)
        return process, receiver

    def _in_job_process(self, job: dict) -> dict:
        process, conn = self._job_process()
        try:
            conn.send(job)
            if conn.poll(self.job_seconds):
                return conn.recv()
            process.kill()
            self._forget(process)
            sweep()  # the killed job's sandbox
            return _too_long(job["student"], self.job_seconds)
        except (EOFError, OSError):
            self._forget(process)
            return {"student": job["student"], "ok": False,
                    "error": f"the grading process died (exit code {process.exitcode})"}

    def _forget(self, process) -> None:
        process.join()
        self.children.discard(process)
        self.mine.child = None

    @staticmethod
    def completed(futures):
        return as_completed(futures)

    def close(self) -> None:
        """Stop now: kill the job processes (their kernels die with them) and drop the queued jobs."""
        for child in list(self.children):
            child.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)
        for child in list(self.children):
            child.join()
        sweep()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _on_worker(course: dict, job: dict, job_seconds: float) -> dict:
    """The job in a fresh interpreter (a Dask worker is a daemon process, which may not fork jobs with
    multiprocessing), killed at the job limit. Both sides are the grader's code: the data goes by pickle."""
    from distributed import get_worker
    warm.ensure_server()  # the worker's own server, shared by all its jobs
    with tempfile.TemporaryDirectory(prefix="course-dask-job-", dir=get_worker().local_directory) as folder:
        request, result = Path(folder, "job.pickle"), Path(folder, "result.pickle")
        request.write_bytes(pickle.dumps((course, job)))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), *sys.path])}
        process = subprocess.Popen([sys.executable, "-m", __name__, folder], env=env, preexec_fn=die_with_parent)
        try:
            process.wait(job_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            sweep()
            return _too_long(job["student"], job_seconds)
        if not result.is_file():
            return {"student": job["student"], "ok": False,
                    "error": f"the grading process died (exit code {process.returncode})"}
        return pickle.loads(result.read_bytes())


def _grade_in_folder(folder: str) -> None:
    """The job process of a Dask worker: grade the job in ``folder``, leave the result beside it."""
    warnings.simplefilter("ignore", SAWarning)
    course, job = pickle.loads(Path(folder, "job.pickle").read_bytes())
    result = grade(course, job, workdir=folder)
    Path(folder, "result.partial").write_bytes(pickle.dumps(result))
    Path(folder, "result.partial").rename(Path(folder, "result.pickle"))


class Cluster:
    def __init__(self, course: dict, address: str, job_seconds: float = 2400.0):
        from distributed import Client
        self.job_seconds = job_seconds
        self.client = Client(address)
        self.course = self.client.scatter(course, broadcast=True)
        self.workers = sum(w["nthreads"] for w in self.client.scheduler_info()["workers"].values())

    def submit(self, job: dict):
        return self.client.submit(_on_worker, self.course, job, self.job_seconds, pure=False)

    @staticmethod
    def completed(futures):
        from distributed import as_completed as dask_completed
        return dask_completed(futures)

    def close(self) -> None:
        self.client.close()


if __name__ == "__main__":
    die_with_parent()
    _grade_in_folder(sys.argv[1])
