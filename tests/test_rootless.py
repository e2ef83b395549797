"""Grading as an ordinary user on a host that gives it no cgroup: `make grade` without root.

The test creates an unprivileged user, gives it a course folder it owns (a scratch course:
nbgrader_config.py, solutions/, the autograde code), and runs `python -m autograde.batch`
as that user. Kernels then run in user namespaces of their own with per-process limits
(this machine's cgroup v1 needs root, its v2 hierarchy is root's): the memory hog, the fork
bomb, the endless loop and the orphan process are stopped, and the honest neighbours keep
their points.
"""
from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import course_lib
from autograde.samples import expected_points
from autograde.samples.hostile import cases, expected_points as hostile_points, write_case
from autograde.sandbox import host
from autograde.sandbox.box import PREFIX
from autograde.course import ASSIGNMENT
from processes import table
from test_batch import CELL_SECONDS, autograded_points, feedback_text, max_points, small_course, write_honest

pytestmark = pytest.mark.e2e

HONEST = ["reference", "blank"]
RUNAWAYS = ["hostile_memory", "hostile_fork_bomb", "hostile_loop", "hostile_outlive"]


def _cannot() -> str | None:
    if os.geteuid() != 0 or not shutil.which("useradd"):
        return "creating the test's unprivileged user needs root and useradd"
    return host.user_namespaces_problem()


def hidden_ancestor(path: Path) -> Path | None:
    """The outermost folder above ``path`` that other users may not enter (root's home, for a pyenv Python)."""
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & 0o001:
            return folder
    return None


def user_command(user: str, argv: list[str], env: dict, stage: Path) -> list[str]:
    """The command line that runs ``argv`` as ``user``, with ``env`` and nothing of ours as its environment.

    What this Python needs (its runtime, the virtual environment, course_lib's source) may lie
    in a folder the user may not enter (here: /root/.pyenv). Then the user gets, in a mount
    namespace of its own, that folder as an empty 0755 one with only those bound back in
    (through ``stage``, an empty folder of root's); the host stays as it was.
    """
    command = ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]
    needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, Path(course_lib.__file__).parent)}
    hidden = {path: hidden_ancestor(Path(path)) for path in sorted(needed)}
    hidden = {path: folder for path, folder in hidden.items() if folder is not None}
    if not hidden:
        return command
    q = shlex.quote
    steps = [f"mkdir -p {q(f'{stage}/{n}')} && mount --bind {q(path)} {q(f'{stage}/{n}')}"
             for n, path in enumerate(hidden)]
    steps += [f"mount -t tmpfs -o mode=0755 tmpfs {q(str(folder))}" for folder in sorted(set(hidden.values()))]
    steps += [f"mkdir -p {q(path)} && mount --bind {q(f'{stage}/{n}')} {q(path)}" for n, path in enumerate(hidden)]
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", " && ".join(steps) + ' && exec "$@"',
            "sh", *command]


@pytest.fixture(scope="module")
def rootless():
    cannot = _cannot()
    if cannot:
        pytest.skip(cannot)
    user = f"h9grader{os.getpid()}"
    folder = Path(tempfile.mkdtemp(prefix="h9-rootless-"))
    home = folder / "home"
    subprocess.run(["useradd", "--no-user-group", "--gid", "nogroup", "--home-dir", str(home), "--create-home",
                    "--shell", "/bin/sh", user], check=True)
    try:
        course = small_course(folder / "course")
        write_honest(course, HONEST)
        for student in RUNAWAYS:
            write_case(cases(CELL_SECONDS)[student], course.path / "exercises" / ASSIGNMENT,
                       course.path / "solutions" / ASSIGNMENT, course.submission_dir(student), {})
        subprocess.run(["chown", "-R", f"{user}:nogroup", str(folder)], check=True)
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home)}
        done = subprocess.run(user_command(user, [sys.executable, "-m", "autograde.batch", ASSIGNMENT,
                                                  "--workers", "2"], env, folder / "runtime"),
                              cwd=course.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=1800)
        yield course, done, pwd.getpwnam(user).pw_uid
    finally:
        subprocess.run(["pkill", "-KILL", "-u", user])  # only if the test failed half-way: the user is ours
        subprocess.run(["userdel", user])
        shutil.rmtree(folder, ignore_errors=True)


def test_an_ordinary_user_grades_with_exact_points(rootless):
    course, done, _ = rootless
    assert done.returncode == 0, done.stdout[-5000:]
    assert "sandbox: without root, in user namespaces; no cgroup: memory and pids per process (weaker)" in done.stdout
    cells = max_points(course)
    every = {**{s: expected_points(s, cells) for s in HONEST},
             **{s: hostile_points(cases(CELL_SECONDS)[s], cells) for s in RUNAWAYS}}
    for student, points in every.items():
        assert autograded_points(course, student) == pytest.approx(points, abs=0.011), student


def test_the_feedback_says_which_limits_were_weaker(rootless):
    course = rootless[0]
    for student in HONEST + RUNAWAYS:
        assert "no cgroup for memory and pids, so weaker limits held" in feedback_text(course, student), student
    assert "exceeded the 10 s limit and was interrupted" in feedback_text(course, "hostile_loop")


def test_nothing_of_the_user_outlives_grading(rootless):
    _, _, uid = rootless
    deadline = time.monotonic() + 30
    while any(u == uid for _, u, _ in table().values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [cmd for _, u, cmd in table().values() if u == uid] == []
    temp = Path(tempfile.gettempdir())
    assert [p for p in temp.glob(PREFIX + "*") if p.stat().st_uid == uid] == []
