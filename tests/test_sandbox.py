"""The kernel sandbox on its own: what a student's kernel can see and do, its limits, and its clean-up.

Each test runs a small notebook through the autograde step ExecuteInSandbox, as
`nbgrader autograde` does, and reads what the kernel printed. The whole-class
attacks are in test_batch.py.
"""
import json
import os
import socket
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograde import notes
from autograde.sandbox import SandboxUnavailable, cgroups
from autograde.sandbox.box import PREFIX, UID_BASE
from autograde.sandbox.view import runtime_paths
from autograde.sandbox import warm as warm_kernels
from autograde.steps import ExecuteInSandbox
from processes import stray_kernel_processes

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e
KERNELS = pytest.mark.parametrize("warm", [True, False], ids=["warm kernel", "cold kernel"])


def run(folder: Path, *sources: str, warm: bool = True, **limits):
    config = Config()
    config.Execute.timeout = 30
    config.Sandbox.warm_kernels = warm
    for name, value in limits.items():
        setattr(config.Sandbox, name, value)
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    resources = {"nbgrader": {"student": "s", "notebook": "n", "assignment": "a"}, "metadata": {"path": str(folder)}}
    return ExecuteInSandbox(config=config).preprocess(nb, resources)


def printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream")


@KERNELS
def test_the_kernel_sees_only_the_runtime_and_its_own_copy(tmp_path, monkeypatch, warm):
    monkeypatch.setenv("COURSE_GRADER_SECRET", "do-not-leak")
    (tmp_path / "data.txt").write_text("the notebook's folder")
    listener = socket.create_server(("127.0.0.1", 0))
    server = str(warm_kernels.shared().socket)
    facts = f"""import json, os, socket, sys
def can(action):
    try:
        action()
        return True
    except OSError:
        return False
print(json.dumps({{
    "uid": os.getuid(),
    "pids": len([p for p in os.listdir("/proc") if p.isdigit()]),
    "own copy": open("data.txt").read(),
    "repository": can(lambda: os.listdir({str(ROOT)!r} + "/autograde")),
    "solutions": can(lambda: os.listdir({str(ROOT)!r} + "/solutions")),
    "course_lib": can(lambda: os.listdir(os.path.dirname(__import__("course_lib").__file__))),
    "write runtime": can(lambda: open(os.path.join(sys.prefix, "pwned"), "w")),
    "write home": can(lambda: open("written-by-the-kernel", "w")),
    "network": can(lambda: socket.create_connection(("127.0.0.1", {listener.getsockname()[1]}), timeout=2)),
    "secret": "do-not-leak" in repr(dict(os.environ)),
    "temp": os.listdir("/tmp"),
    "name": open("/proc/self/comm").read().strip(),
    "privileges": {{k: v.strip() for k, v in (line.split(":", 1) for line in open("/proc/self/status"))
                    if k.startswith("Cap") or k == "NoNewPrivs"}},
    "warm kernel server": can(lambda: socket.socket(socket.AF_UNIX).connect({server!r})),
}}))
"""
    nb, _ = run(tmp_path, facts, "open('/tmp/private', 'w').write('x')", warm=warm)
    seen = json.loads(printed(nb))
    listener.close()
    assert seen["uid"] >= UID_BASE
    assert (seen["name"] == "course-kernel") == warm, "the kernel is of the kind asked for"
    assert seen["pids"] <= 3, "its own PID namespace: an init, the kernel, and little else"
    assert seen["own copy"] == "the notebook's folder" and seen["course_lib"] and seen["write home"]
    assert not any(seen[k] for k in ("repository", "solutions", "write runtime", "network", "secret",
                                     "warm kernel server"))
    runtime = {Path(p).parts[2] for p in runtime_paths() if Path(p).parts[1] == "tmp"}  # a checkout in /tmp
    assert len(set(seen["temp"]) - runtime) <= 1, "only the folder that holds its own ipc/, no other kernel's"
    privileges = seen["privileges"]
    assert privileges.pop("NoNewPrivs") == "1" and set(privileges.values()) == {"0000000000000000"}, privileges
    assert not (tmp_path / "written-by-the-kernel").exists(), "the kernel writes to its copy, not the folder"
    assert not Path("/tmp/private").exists() and not Path(os.sys.prefix, "pwned").exists()


def test_without_a_warm_kernel_server_kernels_start_cold(tmp_path, monkeypatch):
    monkeypatch.delenv(warm_kernels.ENV, raising=False)
    monkeypatch.setattr(warm_kernels, "_shared", None)
    monkeypatch.setattr(warm_kernels, "SERVER", tmp_path / "missing.py")  # so the server cannot start
    with pytest.warns(RuntimeWarning, match="kernels start cold: the warm kernel server did not start"):
        nb, _ = run(tmp_path, "print(open('/proc/self/comm').read().strip())")
    assert printed(nb).strip() not in ("", "course-kernel")


def test_warm_kernels_start_with_fresh_random_state(tmp_path):
    """Forked from one server, each kernel still draws its own numbers, as a fresh interpreter would."""
    draws = [printed(run(tmp_path, "import random, numpy\nprint(random.random(), numpy.random.rand())")[0])
             for _ in range(2)]
    assert draws[0] != draws[1]


@KERNELS
def test_nothing_the_kernel_started_outlives_the_notebook(tmp_path, warm):
    spawn = """import os, subprocess, time
subprocess.Popen(["sleep", "1000"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    time.sleep(1000)
"""
    run(tmp_path, spawn, "import time; time.sleep(0.5)", warm=warm)
    assert stray_kernel_processes() == []
    assert not [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob(f"{PREFIX}{os.getpid()}-*")]
    groups = [p for c in cgroups.CONTROLLERS for p in (cgroups.ROOT / c).rglob(f"{PREFIX}{os.getpid()}-*")]
    assert groups == []


@pytest.mark.parametrize("code, limits, note", [
    ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(60)",
     {"notebook_seconds": 4}, "used up its time budget of 4 s in cell 2"),
    ("hog = b'x' * 2**30", {"memory_bytes": 256 * 2**20}, "ran out of memory (256 MiB) in cell 2"),
    ("while True:\n    print('x' * 1000)", {"output_bytes": 2**20}, "output passed its limit of 1 MiB in cell 2"),
])
@KERNELS
def test_a_limit_ends_the_kernel_and_keeps_what_ran_before(tmp_path, code, limits, note, warm):
    nb, resources = run(tmp_path, "print('before')", code, "print('after')", warm=warm, **limits)
    assert "before" in printed(nb) and "after" not in printed(nb)
    assert note in resources["course_lib"]["stopped"]
    assert any(note in n for n in notes.notes(nb))


def test_grading_stops_with_the_reason_when_there_is_no_sandbox(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroups, "ROOT", tmp_path / "no-cgroups")
    with pytest.raises(SandboxUnavailable, match="cgroup v1 'memory' controller is not mounted.*Sandbox.enabled"):
        run(tmp_path, "print('unconfined')")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxUnavailable, match="must run as root"):
        run(tmp_path, "print('unconfined')")
