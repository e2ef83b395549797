"""One submission's grading job: it runs wherever a worker is, against the worker's own copy of what it needs.

A job gets everything as data — the course (nbgrader_config.py, the gradebook
template, the release, the source folder's other files, the grader's secret) and
the submission (its files, what the gradebook keeps for the student) — and builds a
throw-away course folder from it. There it runs the intake, stock
``nbgrader autograde`` (whose steps put the kernel in the sandbox) and
``nbgrader generate_feedback``, and hands back the grades, the autograded notebooks
and the feedback as data. It never opens the course's own folders or gradebook, so
any number of jobs can run at once, here or on other machines.

Keys and steps are code, so a worker must run the same course code as the
coordinator; the job checks ``code_fingerprint`` before it grades.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

import course_lib

from .. import gradebook_engine
from ..submission_files import SubmissionLimits
from ..sandbox.box import JOB_PREFIX
from .gradebook import db_path, harvest, seed
from .intake import intake

Files = dict[str, tuple[int, bytes]]  # path inside a folder -> (mode, contents)


def _sources(package: Path):
    yield from sorted(package.glob("*.py"))
    for sub in sorted(p for p in package.iterdir() if (p / "__init__.py").is_file()):
        yield from _sources(sub)


@functools.cache
def code_fingerprint() -> str:
    """A hash of the Python sources grading depends on: the autograde package and course_lib.

    Once per process: the code a process runs is what it imported, which reading the files again for
    every job would not tell any better (a checkout changed under a running worker has the same files
    as the coordinator and still runs the old code; restart the workers after an update)."""
    digest = hashlib.sha256()
    for package in (Path(__file__).resolve().parents[1], Path(course_lib.__file__).resolve().parent):
        for path in _sources(package):
            digest.update(path.relative_to(package.parent).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read_files(folder: Path) -> Files:
    return {p.relative_to(folder).as_posix(): (p.stat().st_mode & 0o777, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def write_files(folder: Path, files: Files) -> None:
    for name, (mode, data) in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)


def grade(course: dict, job: dict, workdir: str | None = None) -> dict:
    """Grade ``job["student"]``'s submission in a folder under ``workdir`` (default: the temp folder);
    the result says ``ok`` with the data, or the error. Never raises."""
    started, path, env = time.monotonic(), list(sys.path), dict(os.environ)
    try:
        if course["code"] != code_fingerprint():
            raise RuntimeError("this worker runs other course code than the coordinator: "
                               "install the same checkout on every worker")
        os.environ["COURSE_GRADER_SECRET"] = course["secret"]
        with _job_folder(workdir) as folder:
            result = _grade_in(folder, course, job)
        return {"student": job["student"], "ok": True, "seconds": time.monotonic() - started, **result}
    except Exception:
        return {"student": job["student"], "ok": False, "error": traceback.format_exc()[-4000:]}
    finally:  # a Dask worker runs the next job in this same process
        sys.path[:] = path
        os.environ.clear()
        os.environ.update(env)


@contextmanager
def _job_folder(workdir: str | None):
    """An empty folder for one job, removed after it: in ``workdir``, the same path for every job of this process.

    ``workdir`` is a folder only the grader can write (batch/workers.py), holding one job at a time per process.
    The same path means the same gradebook URL, so the job's gradebook engine, with the SQL it has compiled,
    serves the next job too (gradebook_engine.py): ≈40 ms of compiling SQL less in each job after the first."""
    if workdir is None:  # anywhere else (the shared temp folder) a name others can guess is no place for it
        with tempfile.TemporaryDirectory(prefix=f"{JOB_PREFIX}{os.getpid()}-") as folder:
            yield Path(folder)
        return
    folder = Path(workdir, f"{JOB_PREFIX}{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)  # left by an earlier process with this pid
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _grade_in(root: Path, course: dict, job: dict) -> dict:
    assignment, student = course["assignment"], job["student"]
    (root / "nbgrader_config.py").write_bytes(course["config"])
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    coursedir = CourseDirectory(config=config)

    def folder(kind: str, who: str = ".") -> Path:
        return Path(coursedir.format_path(getattr(coursedir, f"{kind}_directory"), who, assignment))

    Path(db_path(coursedir.db_url)).parent.mkdir(parents=True, exist_ok=True)
    Path(db_path(coursedir.db_url)).write_bytes(course["gradebook"])
    with gradebook_engine.private(coursedir.db_url):  # the job's own file: checked at its first open, not all ~25
        write_files(folder("release"), course["release"])
        write_files(folder("source"), course["source"])
        folder("submitted", student).mkdir(parents=True)
        write_files(folder("submitted", student), job["files"])
        with Gradebook(coursedir.db_url) as gb:
            expected = {nb.name: {c.name for c in nb.source_cells} for nb in gb.find_assignment(assignment).notebooks}
        intake(folder("submitted", student), expected, folder("release"), job["dropped"],
               SubmissionLimits(config=config))
        seed(coursedir.db_url, assignment, student, job["kept"])
        api = NbGraderAPI(coursedir=coursedir, config=config)
        for step in (api.autograde, api.generate_feedback):
            done = step(assignment, student)
            if not done["success"]:
                raise RuntimeError(f"nbgrader {step.__name__} failed:\n{done.get('error') or done.get('log', '')}")
        return {"grades": harvest(coursedir.db_url, assignment, student),
                "autograded": read_files(folder("autograded", student)),
                "feedback": read_files(folder("feedback", student))}
