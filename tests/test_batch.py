"""Grading a whole class with `python -m autograde.batch` (make grade), on the task (a) notebook.

* One batch of honest, faulty and hostile submissions (autograde/samples/hostile.py):
  exact points for every student, a plain note for every fault, no probe gets through,
  nothing outside the submissions changes, and no process survives.
* A small honest class graded serially, in parallel (the runs must really overlap),
  and under repeated SIGKILLs and a Ctrl-C: the three gradebooks are the same, and a
  forced re-run keeps manual grades, extra credit and comments.
* The same class on a local Dask cluster over TLS, whose workers have their own folders.
"""
from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograde.batch import gradebook as batch_gradebook
from autograde.samples import expected_points, write_submission
from autograde.samples.hostile import Case, _sleepy_cells, cases, expected_points as hostile_points, write_case
from autograde.sandbox.box import JOB_PREFIX, PREFIX, SERVER_PREFIX, UID_BASE
from autograde.course import ASSIGNMENT
from autograde.scratch_course import Course
from processes import descends, stray_kernel_processes, table

pytestmark = pytest.mark.e2e

NOTEBOOK = "a_vanishing_gradient.ipynb"
CELL_SECONDS = 10
LIMITS = (f"\nc.Execute.timeout = {CELL_SECONDS}\nc.Sandbox.notebook_seconds = 25\n"
          "c.Sandbox.memory_bytes = 2**30\nc.Sandbox.output_bytes = 2 * 2**20\n")
HONEST = ["reference", "blank", "crash_in_a2", "mistake_a_missing_h", "tamper_allclose", "tamper_course_lib"]


def small_course(path: Path) -> Course:
    """A scratch course with only the task (a) notebook and limits that make runaways quick."""
    path.mkdir(parents=True, exist_ok=True)
    course = Course(path)
    for nb in (path / "solutions" / ASSIGNMENT).glob("*.ipynb"):
        if nb.name != NOTEBOOK:
            nb.unlink()
    with open(path / "nbgrader_config.py", "a") as f:
        f.write(LIMITS)
    course.release()
    return course


def write_honest(course: Course, names=HONEST) -> None:
    for student in names:
        write_submission(student, course.path / "exercises" / ASSIGNMENT, course.path / "solutions" / ASSIGNMENT,
                         course.submission_dir(student))


def batch(course: Course, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.Popen([sys.executable, "-m", "autograde.batch", ASSIGNMENT, *args], cwd=course.path,
                            env={**env, **popen.pop("env", {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **popen)


def finish(process: subprocess.Popen, code: int = 0) -> str:
    out, _ = process.communicate(timeout=1800)
    assert process.returncode == code, out[-5000:]
    return out


def grades(course: Course) -> dict:
    """student -> graded cell -> (auto score, manual score, needs manual grade, extra credit)."""
    with Gradebook(course.db_url) as gb:
        return {sub.student.id: {f"{nb.name}/{g.name}": (g.auto_score, g.manual_score, g.needs_manual_grade,
                                                         g.extra_credit) for nb in sub.notebooks for g in nb.grades}
                for sub in gb.assignment_submissions(ASSIGNMENT)}


def autograded_points(course: Course, student: str) -> dict[str, float]:
    with Gradebook(course.db_url) as gb:
        sub = gb.find_submission(ASSIGNMENT, student)
        return {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades if g.cell.cell_type == "code"}


def max_points(course: Course) -> dict[str, float]:
    with Gradebook(course.db_url) as gb:
        return {c.name: c.max_score for nb in gb.find_assignment(ASSIGNMENT).notebooks
                for c in nb.grade_cells if c.cell_type == "code"}


def feedback_text(course: Course, student: str) -> str:
    pages = (course.path / "autograde" / "feedback" / student / ASSIGNMENT).glob("*.html")
    return html.unescape(re.sub(r"<[^>]+>", "", "\n".join(p.read_text() for p in pages)))


def printed(course: Course, student: str) -> str:
    nb = json.loads((course.path / "autograde" / "autograded" / student / ASSIGNMENT / NOTEBOOK).read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))


def snapshot(*folders: Path) -> dict[str, str]:
    out = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def mtimes(folder: Path) -> dict[str, int]:
    """Every file of ``folder`` but Python's byte-code caches (any root process may add those)."""
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if "__pycache__" not in p.parts}


def no_leftovers() -> None:
    """No stray kernel process, and no sandbox or job folder of a grader that is gone."""
    assert stray_kernel_processes() == []
    live = table()
    temp = Path(os.environ.get("TMPDIR", "/tmp"))
    owners = {p: p.name[len(prefix):].split("-")[0] for prefix in (PREFIX, SERVER_PREFIX, JOB_PREFIX)
              for p in temp.glob(prefix + "*")}  # (folders named otherwise are not this code's)
    stale = [p for p, owner in owners.items() if owner.isdigit() and int(owner) not in live]
    assert stale == []


# --- one batch: honest, faulty and hostile submissions ------------------------------------------

@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    course = small_course(tmp_path_factory.mktemp("hostile"))
    write_honest(course)
    listener = socket.create_server(("127.0.0.1", 0))
    venv_lib = Path(sys.prefix) / "lib"
    repo_lib = Path(__import__("course_lib").__file__).parent
    other = course.submission_dir("reference")
    targets = {
        "read": [("gradebook", str(course.path / "autograde" / "gradebook.db")),
                 ("solutions", str(course.path / "solutions" / ASSIGNMENT)),
                 ("keys", str(course.path / "autograde" / "keys" / "a.py")),
                 ("other student", str(other)),
                 ("kernel connection files", str(Path.home() / ".local" / "share" / "jupyter" / "runtime"))],
        "write": [("virtual environment", str(venv_lib)), ("repository", str(repo_lib)),
                  ("gradebook folder", str(course.path / "autograde")), ("other student", str(other))],
        "ports": [("grader's machine", listener.getsockname()[1])]}
    for student, case in cases(CELL_SECONDS).items():
        write_case(case, course.path / "exercises" / ASSIGNMENT, course.path / "solutions" / ASSIGNMENT,
                   course.submission_dir(student), targets)
    untouched = [course.path / "solutions", course.path / "exercises", course.path / "autograde" / "keys", repo_lib]
    before = snapshot(*untouched, *(course.path / "autograde" / "submitted").iterdir())
    environment = mtimes(venv_lib)
    out = finish(batch(course, "--workers", "2"))
    listener.close()
    return course, out, before, untouched, environment, targets


def test_every_student_gets_exactly_the_points_their_answers_earn(hostile):
    course = hostile[0]
    cells = max_points(course)
    every = {**{s: expected_points(s, cells) for s in HONEST},
             **{s: hostile_points(case, cells) for s, case in cases(CELL_SECONDS).items()}}
    got = {s: autograded_points(course, s) for s in every}
    for student, points in every.items():
        assert got[student] == pytest.approx(points, abs=0.011), student


def test_the_feedback_says_plainly_what_happened(hostile):
    course = hostile[0]
    for student, case in cases(CELL_SECONDS).items():
        text = feedback_text(course, student).lower()
        for note in case.notes:
            assert note.replace("`", "").lower() in text, (student, note)


def test_no_probe_gets_through(hostile):
    course, _, _, _, _, targets = hostile
    probe = printed(course, "hostile_probe")
    assert "LEAK" not in probe
    for kind in ("read", "write", "ports"):
        for what, _ in targets[kind]:
            verb = {"read": "read", "write": "write", "ports": "connect"}[kind]
            assert f"BLOCKED {verb} {what}" in probe
    assert "BLOCKED secret" in probe
    assert printed(course, "hostile_kill_parent").count("BLOCKED kill") == 2


def test_nothing_outside_the_submissions_changes(hostile):
    course, _, before, untouched, environment, _ = hostile
    assert snapshot(*untouched, *(course.path / "autograde" / "submitted").iterdir()) == before
    venv_lib = Path(sys.prefix) / "lib"
    assert mtimes(venv_lib) == environment
    assert list(course.path.rglob("pwned")) == []


def test_no_process_survives_its_grading(hostile):
    no_leftovers()


def test_the_batch_writes_feedback_and_grades_for_everyone(hostile):
    course, out = hostile[:2]
    with open(course.path / "autograde" / "grades.csv", newline="") as f:
        rows = {row["student_id"] for row in csv.DictReader(f)}
    assert rows == set(HONEST) | set(cases(CELL_SECONDS))
    every = len(HONEST) + len(cases(CELL_SECONDS))
    assert f"graded {every} of {every} submissions" in out


def test_a_job_past_its_limit_is_killed_fails_with_the_reason_and_blocks_no_worker(tmp_path):
    """One worker; the first submission would run 30 cells of 9 s (within every kernel limit), the job
    limit is 40 s: it fails at 40 s with the reason, the next is graded, and a rerun costs the limit again."""
    course = small_course(tmp_path / "job_limit")
    with open(course.path / "nbgrader_config.py", "a") as f:
        f.write("\nc.Sandbox.notebook_seconds = 600\nc.Batch.job_seconds = 40\n")
    write_honest(course, ["reference"])
    write_case(Case(layout=_sleepy_cells(30, 9)), course.path / "exercises" / ASSIGNMENT,
               course.path / "solutions" / ASSIGNMENT, course.submission_dir("a_sleepy"), {})
    for run, graded in enumerate(("graded 1 of 2", "graded 0 of 1")):
        started = time.monotonic()
        out = finish(batch(course, "--workers", "1"), code=1)
        assert graded in out and "FAILED a_sleepy" in out, out[-3000:]
        assert "grading took longer than the job limit of 40 s (c.Batch.job_seconds)" in out
        assert time.monotonic() - started < 40 + 120  # the limit, the honest job and the batch's start-up
    assert autograded_points(course, "reference") == expected_points("reference", max_points(course))
    no_leftovers()
    assert list(Path(os.environ.get("TMPDIR", "/tmp")).glob("course-batch-*")) == []


# --- serial, parallel, killed and resumed: the same gradebook ----------------------------------

@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    course = small_course(tmp_path_factory.mktemp("serial"))
    write_honest(course)
    finish(batch(course, "--workers", "1"))
    return course, grades(course)  # as graded: a later test adds manual grades to this course


def copy_of(path: Path) -> Course:
    """A course with the serial course's submissions, grader secret and code, graded by nobody yet."""
    fresh = small_course(path)
    write_honest(fresh)
    return fresh


def test_parallel_runs_overlap_and_equal_serial(serial, tmp_path):
    _, serial_grades = serial
    course = copy_of(tmp_path / "parallel")
    process = batch(course, "--workers", "2")
    overlap = []

    def watch():
        while process.poll() is None:
            procs = table()
            kernels = [p for p, (_, uid, _) in procs.items()  # a kernel runs as a user of its own
                       if uid >= UID_BASE and descends(p, lambda q: q == process.pid, procs)]
            overlap.append(len(kernels))
            time.sleep(0.1)
    watcher = threading.Thread(target=watch)
    watcher.start()
    finish(process)
    watcher.join()
    assert max(overlap) >= 2, "two kernels ran at the same time"
    assert grades(course) == serial_grades


def test_a_batch_killed_anywhere_resumes_to_the_same_gradebook(serial, tmp_path):
    """SIGKILL at random moments, at random writes (a rename of a folder or a gradebook commit, so
    also between the two renames of a swap and between the folders and the grades), and a Ctrl-C."""
    _, serial_grades = serial
    course = copy_of(tmp_path / "killed")
    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    kill_at_write = """
import os, signal, sys
from pathlib import Path
import sqlalchemy.orm
sys.path.insert(0, os.getcwd())
from autograde.batch.run import run
calls, kill_at = 0, int(sys.argv[1])
def counted(write):
    def at_the_kth_write(*args, **kwargs):
        global calls
        calls += 1
        if calls == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return write(*args, **kwargs)
    return at_the_kth_write
Path.rename = counted(Path.rename)
sqlalchemy.orm.Session.commit = counted(sqlalchemy.orm.Session.commit)
run(Path.cwd(), "sheet03", 2)
"""
    for k in rng.sample(range(1, 20), 4):
        process = subprocess.Popen([sys.executable, "-c", kill_at_write, str(k)], cwd=course.path,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
        process.communicate(timeout=1800)
    for _ in range(2):
        process = batch(course, "--workers", "2")
        time.sleep(rng.uniform(3, 12))
        process.kill()
        process.communicate()
    process = batch(course, "--workers", "2")
    time.sleep(rng.uniform(3, 8))
    process.send_signal(signal.SIGINT)
    # 130: the batch caught the Ctrl-C; -SIGINT: it came before the handler, and Python re-raised it
    assert process.wait(timeout=120) in (0, 130, -signal.SIGINT), f"seed {seed}"
    finish(batch(course, "--workers", "2"))
    assert grades(course) == serial_grades, f"seed {seed}"
    for kind in ("autograded", "feedback"):
        assert sorted(p.name for p in (course.path / "autograde" / kind).iterdir()) == sorted(HONEST)
        assert list((course.path / "autograde" / kind).glob("*/.*")) == [], "no half-written folder is left"
    time.sleep(1)  # the killed batches' fork servers end a moment after them
    no_leftovers()


def test_a_job_process_that_dies_fails_only_its_submission(tmp_path):
    """A local worker grades one submission after another in one process; if that process dies,
    its submission fails with the reason and the next one gets a fresh process."""
    from autograde.batch.run import CourseFolder, job_for, plan
    from autograde.batch.workers import Local
    course = CourseFolder(copy_of(tmp_path / "died").path, ASSIGNMENT)
    todo = plan(course, force=False)
    with Gradebook(course.db_url) as gb:
        jobs = [job_for(s, todo[s], batch_gradebook.carried(gb, ASSIGNMENT, s)) for s in ("reference", "blank")]
    pool = Local(course.data(), 1)
    try:
        killed = pool.submit(jobs[0])
        while not pool.children:
            time.sleep(0.01)
        time.sleep(0.5)  # grading, its kernel running
        os.kill(next(iter(pool.children)).pid, signal.SIGKILL)
        assert killed.result(timeout=120) == {"student": "reference", "ok": False,
                                              "error": "the grading process died (exit code -9)"}
        after = pool.submit(jobs[1]).result(timeout=300)
        assert after["ok"], after.get("error")
    finally:
        pool.close()
    no_leftovers()


FORKS = """
import json, os, signal, sys
from multiprocessing import forkserver
from pathlib import Path
from nbgrader.api import Gradebook
from autograde.batch import gradebook as batch_gradebook
from autograde.batch.run import CourseFolder, job_for, plan
from autograde.batch.workers import Local
course = CourseFolder(Path("."), sys.argv[1])
todo = plan(course, force=False)
with Gradebook(course.db_url) as gb:
    jobs = [job_for(s, todo[s], batch_gradebook.carried(gb, sys.argv[1], s)) for s in ("reference", "blank", "crash_in_a2")]
pool = Local(course.data(), 2)
try:
    seen = {"first": [pool.submit(job).result(timeout=300)["ok"] for job in jobs[:2]],
            "fork server after them": forkserver._forkserver._forkserver_pid}
    for child in list(pool.children):
        os.kill(child.pid, signal.SIGKILL)
        child.join()
    seen["replaced"] = pool.submit(jobs[2]).result(timeout=300)["ok"]
    seen["fork server after it"] = forkserver._forkserver._forkserver_pid is not None
finally:
    pool.close()
print(json.dumps(seen))
"""


def test_the_first_job_processes_are_forks_of_the_coordinator_and_a_replacement_comes_from_the_fork_server(tmp_path):
    """The coordinator forks its first job processes itself, so no fork server imports preload.py a second
    time; once the pool's threads run, a job process that died is replaced from the fork server, and grades."""
    course = copy_of(tmp_path / "forks")
    done = subprocess.run([sys.executable, "-c", FORKS, ASSIGNMENT], cwd=course.path, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"first": [True, True], "fork server after them": None,
                                                        "replaced": True, "fork server after it": True}
    no_leftovers()


def test_a_run_with_nothing_left_to_grade_starts_no_workers(serial, monkeypatch, capsys):
    """Resuming a finished batch costs only reading the course: no job process, no warm kernel server."""
    from autograde.batch import run as batch_run

    def no_pool(*args, **kwargs):
        raise AssertionError("a pool of workers was started with nothing to grade")
    monkeypatch.setattr(batch_run, "Local", no_pool)
    monkeypatch.setattr(batch_run, "Cluster", no_pool)
    course, graded = serial
    assert batch_run.run(course.path, ASSIGNMENT, 2) == 0
    assert "graded 0 of 0 submissions" in capsys.readouterr().out
    assert grades(course) == graded


def test_a_second_run_skips_graded_submissions_and_force_keeps_manual_work(serial):
    course, _ = serial
    out = finish(batch(course, "--workers", "2"))
    assert "graded 0 of 0 submissions" in out and "(6 already graded)" in out
    with Gradebook(course.db_url) as gb:
        reasoning = gb.find_grade("a2_reasoning", NOTEBOOK[:-6], ASSIGNMENT, "reference")
        reasoning.manual_score, reasoning.extra_credit = 0.5, 0.25
        gb.find_comment("a1_answer", NOTEBOOK[:-6], ASSIGNMENT, "reference").manual_comment = "nice"
        gb.db.commit()
    before = grades(course)
    finish(batch(course, "--workers", "2", "--force"))
    assert grades(course) == before
    with Gradebook(course.db_url) as gb:
        assert gb.find_comment("a1_answer", NOTEBOOK[:-6], ASSIGNMENT, "reference").manual_comment == "nice"
        assert batch_gradebook.marks(gb, ASSIGNMENT).keys() == set(HONEST)


# --- beyond one machine: a local Dask cluster over TLS ---------------------------------------------

def tls_files(folder: Path) -> dict[str, str]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return {"ca": str(cert), "cert": str(cert), "key": str(key)}


def test_a_dask_cluster_grades_the_same_and_its_kernels_cannot_reach_it(serial, tmp_path):
    checkout, serial_grades = serial
    from distributed import Client
    from distributed.security import Security
    tls = tls_files(tmp_path)
    flags = ["--tls-ca-file", tls["ca"], "--tls-cert", tls["cert"], "--tls-key", tls["key"]]
    env = {**os.environ, "PYTHONPATH": str(checkout.path), "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
           "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": tls["ca"], "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": tls["cert"],
           "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": tls["key"]}
    dask = Path(sys.executable).parent / "dask"
    scheduler_file = tmp_path / "scheduler.json"
    cluster = [subprocess.Popen([dask, "scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0",
                                 "--no-dashboard", "--scheduler-file", str(scheduler_file), *flags],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        while not scheduler_file.exists():
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for n in (1, 2):  # workers in their own folders, started from a checkout of the course code
            cluster.append(subprocess.Popen(
                [dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                 "--local-directory", str(tmp_path / f"worker{n}"), *flags],
                cwd=checkout.path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        security = Security(tls_ca_file=tls["ca"], tls_client_cert=tls["cert"], tls_client_key=tls["key"],
                            require_encryption=True)
        with Client(address, security=security) as client:
            client.wait_for_workers(2, timeout=120)
            ports = [("scheduler", int(address.rsplit(":", 1)[1]))]
            ports += [("worker", int(w.rsplit(":", 1)[1])) for w in client.scheduler_info()["workers"]]
        course = copy_of(tmp_path / "dask")
        write_case(cases(CELL_SECONDS)["hostile_probe"], course.path / "exercises" / ASSIGNMENT,
                   course.path / "solutions" / ASSIGNMENT, course.submission_dir("hostile_probe"),
                   {"read": [], "write": [], "ports": ports})
        out = finish(batch(course, "--scheduler", address, env=env))
        assert "graded 7 of 7 submissions" in out
        probe = printed(course, "hostile_probe")
        assert "LEAK" not in probe and probe.count("BLOCKED connect") == len(ports) == 3
        dask_grades = grades(course)
        assert dask_grades.pop("hostile_probe")
        assert dask_grades == serial_grades
    finally:
        for process in cluster:
            process.terminate()
        for process in cluster:
            process.wait(timeout=60)


def test_a_worker_running_other_course_code_grades_nothing():
    from autograde.batch.job import code_fingerprint, grade
    done = grade({"code": code_fingerprint()[::-1], "secret": "s", "assignment": ASSIGNMENT}, {"student": "s1"})
    assert not done["ok"] and "runs other course code than the coordinator" in done["error"]
    assert "grades" not in done
