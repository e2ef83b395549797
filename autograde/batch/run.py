"""The coordinator of a batch: what to grade, handing jobs out, and the one writer of grades and files.

Only this process writes the course's gradebook and its autograded/ and feedback/
folders; jobs return data (job.py). For each finished submission the writer first
puts its folders in place — written beside the old ones, then swapped in by
renames — and then commits its grades together with the submission's fingerprint
(gradebook.py). A submission is graded when that commit happened, so a batch
killed at any moment (Ctrl-C, SIGKILL, mid-write) resumes at the next run with
exactly the submissions that lack it; a half-swapped folder is put back first.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from tqdm import tqdm
from traitlets.config.loader import PyFileConfigLoader

from ..platform.grades_out import TaskTableExport
from ..sandbox import cgroups, host
from ..sandbox.box import sweep
from ..sandbox.settings import Sandbox
from ..secret import load_secret
from ..submission_files import Submission, SubmissionLimits, scan
from . import gradebook
from .job import code_fingerprint, read_files, write_files
from .workers import Batch, Cluster, Local

PARTIAL, OLD = ".partial-", ".old-"  # folders being written, folders being replaced


@dataclass
class CourseFolder:
    """The course folder a batch grades, as nbgrader_config.py describes it."""
    root: Path
    assignment: str

    def __post_init__(self):
        self.config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        self.dirs = CourseDirectory(config=self.config)

    def base(self, kind: str) -> Path:
        """The course's folder of ``kind`` (submitted, autograded, feedback, release, source)."""
        return Path(self.dirs.root) / getattr(self.dirs, f"{kind}_directory")

    def folder(self, kind: str, student: str = ".") -> Path:
        return Path(self.dirs.format_path(getattr(self.dirs, f"{kind}_directory"), student, self.assignment))

    @property
    def db_url(self) -> str:
        return self.dirs.db_url

    def submissions(self) -> dict[str, Path]:
        found = self.base("submitted")
        if not found.is_dir():
            return {}
        return {p.name: p / self.assignment for p in sorted(found.iterdir()) if (p / self.assignment).is_dir()}

    def data(self) -> dict:
        """What every job needs of the course (job.py)."""
        source = {name: f for name, f in read_files(self.folder("source")).items() if not name.endswith(".ipynb")}
        release = {name: f for name, f in read_files(self.folder("release")).items() if name.endswith(".ipynb")}
        return {"assignment": self.assignment, "config": (self.root / "nbgrader_config.py").read_bytes(),
                "gradebook": gradebook.template(self.db_url), "release": release, "source": source,
                "secret": load_secret(), "code": code_fingerprint()}


def fingerprint(submission: Submission) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(submission.files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    for name, why in sorted(submission.dropped.items()):
        digest.update(b"\1" + name.encode(errors="surrogateescape") + b"\0" + why.encode())
    return digest.hexdigest()


def job_for(student: str, submission: Submission, kept: dict) -> dict:
    """A job carries the files the scan read and what it left out, never a file it refused."""
    return {"student": student, "files": {name: (0o600, data) for name, data in submission.files.items()},
            "dropped": submission.dropped, "kept": kept}


def _replace(folder: Path, files: dict) -> None:
    """Put ``files`` in ``folder``'s place: written beside it, then swapped in by two renames."""
    partial, old = folder.with_name(PARTIAL + folder.name), folder.with_name(OLD + folder.name)
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    write_files(partial, files)
    if folder.exists():
        folder.rename(old)
    partial.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _recover(folder: Path) -> None:
    """Undo what a killed writer left: a half-written folder goes, a half-replaced one comes back."""
    for left in folder.glob(f"*/{PARTIAL}*"):
        shutil.rmtree(left)
    for left in folder.glob(f"*/{OLD}*"):
        current = left.with_name(left.name[len(OLD):])
        if current.exists():
            shutil.rmtree(left)
        else:
            left.rename(current)


def plan(course: CourseFolder, force: bool) -> dict[str, Submission]:
    """student -> what a scan of the submission read, for every submission not graded yet (all with ``force``)."""
    for kind in ("autograded", "feedback"):
        _recover(course.base(kind))
    with Gradebook(course.db_url) as gb:
        try:
            gb.find_assignment(course.assignment)
        except MissingEntry:
            sys.exit(f"{course.assignment} is not in the gradebook: run `nbgrader generate_assignment "
                     f"{course.assignment}` (make release) first")
        gradebook.ensure_marks(gb)
        if force:
            gradebook.forget_marks(gb, course.assignment)
        marks = gradebook.marks(gb, course.assignment)
    todo, limits = {}, SubmissionLimits(config=course.config)
    wanted = {p.name for p in course.folder("release").glob("*.ipynb")}
    for student, folder in course.submissions().items():
        submission = scan(folder, limits, wanted)
        if marks.get(student) != fingerprint(submission) or not course.folder("autograded", student).is_dir():
            todo[student] = submission
    return todo


def store(course: CourseFolder, kept: dict, result: dict, submission: Submission) -> None:
    """The one writer: folders first, then the grades and the mark in one transaction."""
    student = result["student"]
    _replace(course.folder("autograded", student), result["autograded"])
    _replace(course.folder("feedback", student), result["feedback"])
    with Gradebook(course.db_url) as gb:
        gradebook.store(gb, course.assignment, student, kept, result["grades"], fingerprint(submission))


def export(course: CourseFolder) -> Path:
    """grades.csv beside the gradebook, as `nbgrader export` writes it: the per-task table (written aside, then renamed)."""
    target = Path(gradebook.db_path(course.db_url)).with_name("grades.csv")
    partial = target.with_name(PARTIAL + target.name)
    with Gradebook(course.db_url) as gb:
        TaskTableExport(to=str(partial), assignment=[course.assignment]).export(gb)
    partial.replace(target)
    return target


def _grade_all(course: CourseFolder, todo: dict, kept: dict, workers: int, sandbox: Sandbox,
               scheduler: str | None) -> dict[str, str]:
    """Grade ``todo`` on a pool of workers (no pool, and no warm kernel server, is started for nothing);
    store each result as it comes; the error of each submission that failed."""
    failed = {}
    job_seconds = Batch(config=course.config).job_seconds
    pool = (Local(course.data(), workers, warm_kernels=sandbox.enabled and sandbox.warm_kernels, job_seconds=job_seconds)
            if scheduler is None else Cluster(course.data(), scheduler, job_seconds))
    try:
        futures = {pool.submit(job_for(s, submission, kept[s])): s for s, submission in todo.items()}
        with tqdm(total=len(todo), unit="submission", desc=f"grading {course.assignment}", dynamic_ncols=True) as bar:
            for future in pool.completed(futures):
                student = futures[future]
                try:
                    result = future.result()
                except Exception as e:  # a Dask worker lost for good
                    result = {"student": student, "ok": False, "error": f"{type(e).__name__}: {e}"}
                if result["ok"]:
                    store(course, kept[student], result, todo[student])
                else:
                    failed[student] = result["error"]
                bar.update()
                left = len(todo) - bar.n
                bar.set_postfix(done=bar.n - len(failed), failed=len(failed), running=min(pool.workers, left))
    finally:
        pool.close()
    return failed


def run(root: Path, assignment: str, workers: int, force: bool = False, scheduler: str | None = None) -> int:
    """Grade every submission of ``assignment`` not graded yet; the number of submissions that failed."""
    course = CourseFolder(root, assignment)
    sandbox = Sandbox(config=course.config)
    if scheduler is None and sandbox.enabled:
        sandbox.check()  # here, before any job: one clear message instead of a failure per submission
        sweep()  # the sandbox folders and kernel servers of batches that were killed
    todo, failed, started = plan(course, force), {}, time.monotonic()
    with Gradebook(course.db_url) as gb:
        kept = {student: gradebook.carried(gb, assignment, student) for student in todo}
    if todo:
        failed = _grade_all(course, todo, kept, workers, sandbox, scheduler)
    csv = export(course)
    print(f"graded {len(todo) - len(failed)} of {len(todo)} submissions in {time.monotonic() - started:.1f} s "
          f"({len(course.submissions()) - len(todo)} already graded); grades: {os.path.relpath(csv, root)}")
    if scheduler is None and sandbox.enabled:
        print(f"sandbox: {host.backend(cgroups.detect(sandbox.cgroups))}")
    for student, error in failed.items():
        print(f"\nFAILED {student}:\n{error.strip()}", file=sys.stderr)
    return len(failed)
