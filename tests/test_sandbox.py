"""The kernel sandbox on its own: what a student's kernel can see and do, its limits, and its clean-up.

Each test runs a small notebook through the autograde step ExecuteInSandbox, as
`nbgrader autograde` does, and reads what the kernel printed. The whole-class
attacks are in test_batch.py.
"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import jupyter_client.launcher
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from autograde import doctor, notes
from autograde.course import ROOT
from autograde.samples.hostile import FORK_BOMB, OUTLIVE
from autograde.sandbox import cgroups, host
from autograde.sandbox.box import JOB_PREFIX, PREFIX, UID_BASE, sweep
from autograde.sandbox.settings import Sandbox, SandboxUnavailable, weaker_limits
from autograde.sandbox.view import LAUNCHER_ENV, PASSED_ENV, runtime_paths
from autograde.sandbox import warm as warm_kernels
from autograde.steps import ExecuteInSandbox, execute_in_sandbox
from autograde.steps.common import grading
from course_lib.graded_run import NOT_RENDERED
from course_lib.i18n import COURSE_LIB, DEFAULT
from processes import stray_kernel_processes, table


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


def grading_notes(nb) -> str:
    """The grading notes cell's text (autograde/notes.py), "" without one."""
    return nb.cells[0].source if nb.cells and nb.cells[0].metadata.get(notes.MARK) else ""


@KERNELS
def test_the_kernel_sees_only_the_runtime_and_its_own_copy(tmp_path, monkeypatch, warm):
    monkeypatch.setenv("COURSE_GRADER_SECRET", "do-not-leak")
    (tmp_path / "data.txt").write_text("the notebook's folder")
    listener = socket.create_server(("127.0.0.1", 0))
    server = str(warm_kernels.shared().socket)
    facts = f"""import ctypes, json, os, socket, sys
def new_user_namespace():
    if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:  # CLONE_NEWUSER
        raise OSError(ctypes.get_errno(), "unshare")
def reach(port):
    connection = socket.create_connection(("127.0.0.1", port), timeout=2)
    if connection.getsockname() == connection.getpeername():  # TCP's simultaneous open with itself
        raise OSError("connected to itself")
own = socket.create_server(("127.0.0.1", 0))
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
    "network": can(lambda: reach({listener.getsockname()[1]})),
    "secret": "do-not-leak" in repr(dict(os.environ)),
    "temp": os.listdir("/tmp"),
    "name": open("/proc/self/comm").read().strip(),
    "privileges": {{k: v.strip() for k, v in (line.split(":", 1) for line in open("/proc/self/status"))
                    if k.startswith("Cap") or k == "NoNewPrivs"}},
    "warm kernel server": can(lambda: socket.socket(socket.AF_UNIX).connect({server!r})),
    "loopback": can(lambda: socket.create_connection(own.getsockname(), timeout=2)),
    "user namespace": can(new_user_namespace),
}}))
"""
    nb, _ = run(tmp_path, facts, "open('/tmp/private', 'w').write('x')", warm=warm)
    seen = json.loads(printed(nb))
    listener.close()
    assert seen["uid"] >= UID_BASE
    assert (seen["name"] == "course-kernel") == warm, "the kernel is of the kind asked for"
    assert seen["pids"] <= 3, "its own PID namespace: an init, the kernel, and little else"
    assert seen["own copy"] == "the notebook's folder" and seen["course_lib"] and seen["write home"]
    assert [k for k in ("repository", "solutions", "write runtime", "network", "secret", "warm kernel server",
                        "user namespace") if seen[k]] == []
    assert seen["loopback"], "the same network view in both kinds: only a loopback interface, and it is up"
    runtime = {Path(p).parts[2] for p in runtime_paths() if Path(p).parts[1] == "tmp"}  # a checkout in /tmp
    assert len(set(seen["temp"]) - runtime) <= 1, "only the folder that holds its own ipc/, no other kernel's"
    privileges = seen["privileges"]
    assert privileges.pop("NoNewPrivs") == "1" and set(privileges.values()) == {"0000000000000000"}, privileges
    assert not (tmp_path / "written-by-the-kernel").exists(), "the kernel writes to its copy, not the folder"
    assert not Path("/tmp/private").exists() and not Path(os.sys.prefix, "pwned").exists()


VIEW = r"""import json, os, re, resource, socket, course_lib  # (course_lib's imports set variables in both kinds)
box = re.compile(r"course-sandbox-[0-9]+-[^/]+")
def listing(folder):
    try:
        return {box.sub("<box>", name): [oct(os.lstat(os.path.join(folder, name)).st_mode),
                                         os.access(os.path.join(folder, name), os.W_OK)] for name in os.listdir(folder)}
    except OSError as e:
        return e.strerror
mounts = []
for line in open("/proc/self/mountinfo"):
    fields, _, tail = line.partition(" - ")
    mounts.append([box.sub("<box>", fields.split()[4]), tail.split()[0], fields.split()[5]])
print(json.dumps({
    "mounts": sorted(mounts),
    "folders": {folder: listing(folder) for folder in ("/", "/dev", "/dev/shm", "/etc", "/home", "/home/student",
                                                      "/run", "/tmp", "/proc/self/fd")},
    "env": dict(os.environ), "ids": [os.getresuid(), os.getresgid(), os.getgroups()], "cwd": os.getcwd(),
    "umask": os.umask(0o22), "interfaces": socket.if_nameindex(), "hostname": socket.gethostname(),
    "limits": {name: resource.getrlimit(getattr(resource, name)) for name in dir(resource)
               if name.startswith("RLIMIT_")},
    "status": [line for line in open("/proc/self/status") if line.startswith(("Cap", "NoNewPrivs", "Seccomp"))],
    "new namespaces": sorted(name for name, ours in %r.items() if os.readlink(f"/proc/self/ns/{name}") != ours),
}))
"""


def test_both_kinds_of_kernel_see_the_same(tmp_path):
    """The one description of view.py, made by bwrap (cold) and by the warm kernel server: the same from inside."""
    ours = {name: os.readlink(f"/proc/self/ns/{name}") for name in os.listdir("/proc/self/ns")}
    seen = {warm: json.loads(printed(run(tmp_path, VIEW % ours, warm=warm)[0])) for warm in (True, False)}
    for part in seen[False]:
        assert seen[True][part] == seen[False][part], part
    # a user namespace only where unprivileged users could make one (launcher.sandbox_argv): the probe needs the venv's bwrap
    # readable by nobody, which a checkout in a private folder (mktemp -d) is not
    user = {"user"} if host.user_namespaces_problem() is None else set()
    assert {"mnt", "pid", "net", "ipc", "uts", "cgroup"} | user <= set(seen[True]["new namespaces"])
    assert [name for _, name in seen[True]["interfaces"]] == ["lo"]
    assert seen[True]["folders"]["/run"] == {} and "<box>" in seen[True]["folders"]["/tmp"]


@KERNELS
def test_a_graded_kernel_shows_a_plot_as_the_not_rendered_line(tmp_path, monkeypatch, warm):
    """Warm kernels imported course_lib before their shell existed: the switch is made when the shell is."""
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # as nbgrader autograde sets it
    nb, _ = run(tmp_path, "import matplotlib.pyplot as plt\nimport course_lib", "plt.plot([0, 1])\nplt.show()",
                warm=warm)
    shown = [o for o in nb.cells[1].outputs if o.output_type == "display_data"]
    # no request file and no notebook here tell the kernel a language: it speaks the course's default
    said = COURSE_LIB.translations(DEFAULT).gettext(NOT_RENDERED)
    assert shown and all(o.data == {"text/plain": said} for o in shown), nb.cells[1].outputs


SKIPPED = """import json, logging, sys
import ipykernel.compiler, ipykernel.ipkernel, ipykernel.kernelapp, ipykernel.kernelbase
kernel = get_ipython().kernel
def changed(function):  # (defined by the server, wrapping ipykernel's or not)
    return function.__code__.co_filename.endswith("sandbox/zygote.py")
run_cell = get_ipython().run_cell_async
print(json.dumps({
    "debug records": kernel.log.isEnabledFor(logging.DEBUG), "warnings": kernel.log.isEnabledFor(logging.WARNING),
    "module list": bool(kernel._kernel_modules), "sys": ipykernel.ipkernel.sys is sys,
    "parameters": [ipykernel.ipkernel._accepts_parameters(run_cell, ["cell_id", "cell_meta"]) for _ in range(2)],
    "as ipykernel reads them": ipykernel.kernelbase._accepts_parameters(run_cell, ["cell_id", "cell_meta"]),
    "changed": [changed(f) for f in (ipykernel.kernelapp.IPKernelApp.parse_command_line,
                                     ipykernel.compiler.murmur2_x86, type(get_ipython()).transform_cell)],
}))
"""


@KERNELS
def test_a_warm_kernel_skips_only_what_grading_never_uses(tmp_path, warm):
    """The warm kernel server changes ipykernel once for all its kernels (zygote.preload): no log records
    that no handler shows, no module list for a debugger a graded kernel has not, run_cell's signature read once,
    arguments parsed once, cell names hashed in blocks, a cell transformed once (test_a_warm_kernel_shows_…)."""
    seen = json.loads(printed(run(tmp_path, SKIPPED, warm=warm)[0]))
    assert seen["debug records"] is not warm and seen["warnings"]
    assert seen["module list"] is not warm and seen["sys"]
    assert seen["parameters"] == [seen["as ipykernel reads them"]] * 2
    assert seen["changed"] == [warm] * 3


SHOWN_ALIKE = [  # what a student sees of IPython: magics, `!` commands, warnings, tracebacks, transformers of their own
    "x = 1\nx is 1",
    "%precision 3\n!echo from the shell\nfiles = !ls /\nlen(files) > 3",
    "3.14159",
    "def f(a):\n    return a / 0\nf(1)",
    "print(f.__code__.co_filename.rsplit('/', 1)[-1])",
    "seen = []\ndef note(lines):\n    seen.append(len(lines))\n    return lines\n"
    "get_ipython().input_transformers_post.append(note)",
    "z = 3\nz",
    "get_ipython().input_transformers_post.remove(note)\nprint(seen)",
    "%autocall 1\n",
    "abs -3",
    "await __import__('asyncio').sleep(0)\n'awaited'",
    "a = (\n",
    "print(In[1:3], _i2 == In[2])",
]


def test_a_warm_kernel_shows_what_a_cold_one_shows(tmp_path):
    """What the warm kernel server changes in ipykernel (zygote.preload: arguments parsed once, cell names hashed in
    blocks, a cell transformed once) leaves every output as stock ipykernel makes it."""
    def outputs(nb):
        kept = [{k: v for k, v in o.items() if k not in ("execution_count", "metadata")} for c in nb.cells
                for o in c.outputs]
        return re.sub(r"ipykernel_[0-9]+", "ipykernel_<pid>", json.dumps(kept))
    seen = {warm: outputs(run(tmp_path, *SHOWN_ALIKE, warm=warm)[0]) for warm in (True, False)}
    assert seen[True] == seen[False]
    assert "[2, 2, 2, 2]" in seen[True], "a notebook's own transformer runs twice a cell, as in IPython"


def test_without_a_warm_kernel_server_kernels_start_cold(tmp_path, monkeypatch):
    monkeypatch.delenv(warm_kernels.ENV, raising=False)
    monkeypatch.setattr(warm_kernels, "_shared", None)
    monkeypatch.setattr(warm_kernels, "SERVER", tmp_path / "missing.py")  # so the server cannot start
    with pytest.warns(RuntimeWarning, match="kernels start cold: the warm kernel server did not start"):
        nb, _ = run(tmp_path, "print(open('/proc/self/comm').read().strip())")
    assert printed(nb).strip() not in ("", "course-kernel")


def test_a_fork_of_the_servers_starter_uses_the_server_and_never_ends_or_replaces_it(tmp_path, monkeypatch):
    """A batch's first job processes are forks of the coordinator (batch/workers.py): the server they inherit
    is the coordinator's, so their kernels come from it, and only the coordinator can check or end it."""
    path = tmp_path / "socket"
    path.touch()

    def only_its_starter():
        raise AssertionError("only the server's starter can tell if it runs, or end it")
    inherited = SimpleNamespace(starter=os.getpid() + 1, socket=path, alive=only_its_starter, close=only_its_starter)
    monkeypatch.setattr(warm_kernels, "_shared", inherited)
    monkeypatch.setenv(warm_kernels.ENV, str(path))
    monkeypatch.setattr(warm_kernels, "Zygote", lambda: pytest.fail("a second server was started"))
    warm_kernels.ensure_server()
    assert os.environ[warm_kernels.ENV] == str(path)


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
    groups = [p for c in cgroups.CONTROLLERS for p in Path(cgroups.ROOT, c).rglob(f"{PREFIX}{os.getpid()}-*")]
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
    assert note in grading(resources).stopped
    assert note in grading_notes(nb)


def test_grading_stops_with_the_reason_when_there_is_no_sandbox(tmp_path, monkeypatch):
    monkeypatch.setattr(cgroups, "ROOT", tmp_path / "no-cgroups")
    cgroups.detect.cache_clear()
    try:
        with pytest.raises(SandboxUnavailable, match="cgroup v1 'memory' controller is not mounted.*make doctor"
                                                     ".*Sandbox.enabled"):
            run(tmp_path, "print('unconfined')", cgroups="v1")
    finally:
        cgroups.detect.cache_clear()
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(host, "user_namespaces_problem", lambda: "unprivileged user namespaces do not work here (x)")
    with pytest.raises(SandboxUnavailable, match="user namespaces do not work here.*the step that fixes it"):
        run(tmp_path, "print('unconfined')")


def processes_holding(secret: bytes) -> list[str]:
    """The command lines of the processes, other than this one, whose environment holds ``secret``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int(proc.name) != os.getpid() and secret in (proc / "environ").read_bytes():
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            pass
    return found


def holding_the_secret_while_a_kernel_runs(tmp_path, monkeypatch, warm: bool) -> list[str]:
    """The command lines of the processes that held a secret of the grader's while a graded kernel ran."""
    monkeypatch.setenv("COURSE_GRADER_SECRET", "do-not-leak-h9")
    monkeypatch.setattr(warm_kernels, "_shared", None)  # a server started with this environment
    monkeypatch.delenv(warm_kernels.ENV, raising=False)
    seen, done = [], threading.Event()
    kernel_user = UID_BASE + os.getpid()

    def watch():  # once the kernel runs, its launcher has long replaced itself, if it had to
        while not done.is_set():
            if any(uid == kernel_user for _, uid, _ in table().values()):
                seen.extend(processes_holding(b"do-not-leak-h9"))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        nb, _ = run(tmp_path, "print('started')", "import time; time.sleep(3)", warm=warm)
    finally:
        done.set()
        watcher.join()
        if warm_kernels._shared:
            warm_kernels._shared.close()
    assert "started" in printed(nb)
    return seen


@KERNELS
def test_no_grader_environment_reaches_the_launcher_or_bwrap(tmp_path, monkeypatch, warm):
    """Not only the kernel: the launcher, bwrap and the warm kernel server do not carry the secret either.

    The launcher does not even start with it (so it need not replace itself, which would cost it a second start).
    """
    given = []

    def popen(argv, **kwargs):  # jupyter_client's, for the kernelspec's argv: the launcher
        given.append(sorted(kwargs["env"]))
        return subprocess.Popen(argv, **kwargs)
    monkeypatch.setattr(jupyter_client.launcher, "Popen", popen)
    assert holding_the_secret_while_a_kernel_runs(tmp_path, monkeypatch, warm) == []
    assert len(given) == 1 and set(given[0]) <= set(LAUNCHER_ENV + PASSED_ENV), given


def test_a_launcher_given_the_graders_environment_replaces_itself_with_a_copy_without_it(tmp_path, monkeypatch):
    """As any starter of the kernelspec but ExecuteInSandbox would give it: jupyter_client's default, all of it."""
    monkeypatch.setattr(execute_in_sandbox, "launcher_env", lambda: dict(os.environ))
    assert holding_the_secret_while_a_kernel_runs(tmp_path, monkeypatch, warm=True) == []


def test_a_killed_job_leaves_no_folder_behind():
    """A batch job's folder is named after its process; the next grader removes it once that process is gone."""
    gone = subprocess.Popen(["true"])
    gone.wait()
    folder = Path(tempfile.mkdtemp(prefix=f"{JOB_PREFIX}{gone.pid}-"))
    (folder / "gradebook.db").write_text("left by a batch that was killed")
    sweep()
    assert not folder.exists()


# --- cgroup v2: on this machine's /sys/fs/cgroup/unified, which has neither memory nor pids --------------

V2 = pytest.mark.skipif(cgroups.v2_mount() is None or os.geteuid() != 0,
                        reason="no cgroup v2 hierarchy here that this user may write")


@V2
def test_v2_groups_track_the_kernel_and_cgroup_kill_ends_it(monkeypatch):
    groups = cgroups.KernelGroups(f"{PREFIX}{os.getpid()}-unit", cgroups.detect("v2"))
    groups.create(2**30, 64)
    path = Path(groups.paths["unified"])
    assert path.parent == Path(cgroups.detect("v2")["base"]) and (path / "cgroup.kill").exists()
    stubborn = """import os, signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
time.sleep(1000)
"""
    process = subprocess.Popen([sys.executable, "-c", stubborn], preexec_fn=groups.join)
    deadline = time.monotonic() + 60
    while len(groups.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    tracked = groups.pids()
    assert process.pid in tracked and len(tracked) == 2, "the daemon it forked is tracked too"
    with monkeypatch.context() as patch:
        patch.setattr(cgroups.os, "kill", lambda *_: pytest.fail("signalled one by one, not by cgroup.kill"))
        groups.remove()
    assert not path.exists()
    assert process.wait(timeout=30) == -9
    for pid in tracked - {process.pid}:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not Path(f"/proc/{pid}").exists()


def test_controllers_systemd_did_not_delegate_are_detected(tmp_path, monkeypatch):
    """A delegated subtree as systemd lays it out, but the controllers never reach a child group:
    the grader moves itself into a leaf, enables them, and reads back from a probe group that they are missing."""
    base = tmp_path / "user.slice" / "user-1000.slice" / "user@1000.service" / "app.slice"
    base.mkdir(parents=True)
    (base / "cgroup.controllers").write_text("cpu memory pids\n")
    (base / "cgroup.subtree_control").write_text("")
    (base / "cgroup.procs").write_text(f"{os.getpid()}\n")
    monkeypatch.setattr(cgroups, "v1_problem", lambda: "no cgroup v1 here")
    monkeypatch.setattr(cgroups, "v2_mount", lambda: tmp_path)
    monkeypatch.setattr(cgroups, "v2_own", lambda: base)
    cgroups.detect.cache_clear()
    try:
        groups = cgroups.detect()
        spec = Sandbox(config=Config()).limits()
    finally:
        cgroups.detect.cache_clear()
    assert (base / f"{cgroups.LEAF}{os.getpid()}" / "cgroup.procs").read_text() == str(os.getpid())
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert groups == {"kind": "v2", "base": str(base), "controllers": []}
    assert set(spec["rlimits"]) == {"AS", "FSIZE", "NPROC", "CPU"}
    assert "no cgroup for memory and pids" in weaker_limits(spec)


@V2
@KERNELS
def test_the_v2_backend_without_controllers_stops_runaways_with_per_process_limits(tmp_path, warm):
    base = Path(cgroups.detect("v2")["base"])
    tracked, done = [], threading.Event()

    def watch():
        while not done.is_set():
            for group in base.glob(f"{PREFIX}{os.getpid()}-*"):
                tracked.append(len(cgroups.read_words(group / "cgroup.procs")))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        nb, _ = run(tmp_path, OUTLIVE, FORK_BOMB, "hog = b'x' * 2**31", "print('after')",
                    warm=warm, cgroups="v2", memory_bytes=2**30, processes=32)
    finally:
        done.set()
        watcher.join()
    assert max(tracked) >= 2, "the kernel's processes were in its group"
    assert "fork refused after" in printed(nb) and "after" in printed(nb)
    hog = next(c for c in nb.cells if c.source.startswith("hog"))
    assert [o.get("ename") for o in hog.outputs] == ["MemoryError"]
    assert "no cgroup for memory and pids, so weaker limits held" in grading_notes(nb)
    assert list(base.glob(f"{PREFIX}{os.getpid()}-*")) == []
    deadline = time.monotonic() + 30  # the killed fork bomb's children are reaped a moment later
    while stray_kernel_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stray_kernel_processes() == []


def test_make_doctor_says_what_the_host_gives_and_fails_where_grading_would_stop(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert doctor.main() == 0
    report = capsys.readouterr().out
    for label in ("root:", "namespaces:", "AppArmor:", "cgroup v1:", "cgroup v2:", "bwrap:", "backend:", "stronger:"):
        assert label in report
    assert report.rstrip().endswith("grading:     safe on this host")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(host, "user_namespaces_problem", lambda: "unprivileged user namespaces do not work here (x)")
    monkeypatch.setattr(host, "apparmor_restricts", lambda: True)
    assert doctor.main() == 1
    report = capsys.readouterr().out
    assert "an AppArmor profile for it" in report and "grading:     stops: the kernel sandbox cannot be set up" in report


def test_relay_passes_the_first_bytes_and_keeps_the_deadline(capfdbinary):
    """The launcher relays the kernel's stderr itself, so neither a flood nor a silent stream may hold it past the budget."""
    from autograde.sandbox.launcher import _relay
    read, write = os.pipe()
    os.write(write, b"x" * 100)
    os.close(write)
    _relay(os.fdopen(read, "rb"), 10, time.monotonic() + 30)  # returns at the stream's end
    assert capfdbinary.readouterr().err == b"x" * 10
    for writer in (["yes"], ["sleep", "30"]):
        read, write = os.pipe()
        process = subprocess.Popen(writer, stdout=write)
        os.close(write)
        started = time.monotonic()
        _relay(os.fdopen(read, "rb"), 10, started + 0.5)
        assert time.monotonic() - started < 5
        process.kill()
        process.wait()
    assert capfdbinary.readouterr().err == b"y\n" * 5


# What a warm kernel's launcher does without (launcher.py): each would add a tenth or more to its start-up, most
# of its CPU time. Modules, not timings, so that a loaded machine cannot make the test fail.
LAUNCHER_AVOIDS = ("pathlib", "urllib.parse", "ipaddress", "importlib", "contextlib", "socket", "selectors",
                   "signal", "subprocess", "site", "tempfile", "traitlets", "json", "shutil", "re", "enum")


def test_a_warm_kernels_launcher_imports_only_what_it_runs():
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import autograde.sandbox.launcher; print(*sys.modules)"
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "autograde.sandbox.launcher" in loaded and not loaded & set(LAUNCHER_AVOIDS)


def test_the_launchers_json_is_jsons_both_ways_for_plain_data_and_refuses_the_rest():
    from autograde.sandbox import plain_json
    for value in ({"uid": 60123, "rlimits": {"NOFILE": 256}, "box": "/tmp/b\u00e9/\"x\"", "on": [True, None, 1.5]},
                  [], {}, "x", -(2**70), [float("inf")]):
        assert plain_json.dumps(value) == json.dumps(value)
        assert plain_json.loads(json.dumps(value, indent=2) + "\n") == value
        assert plain_json.loads(json.dumps(value).encode()) == value
    for text in ("", "{", "[1,]", "1 2", '{"a" 1}', "nan"):
        with pytest.raises(ValueError):
            plain_json.loads(text)
    with pytest.raises(TypeError):
        plain_json.dumps({"a": object()})


def test_the_launcher_copies_the_notebooks_folder_as_shutil_copytree_would(tmp_path):
    from autograde.sandbox.launcher import _copy_tree
    source = tmp_path / "notebook"
    (source / "data").mkdir(parents=True)
    (source / "a.ipynb").write_text("{}")
    (source / "data" / "x.bin").write_bytes(bytes(range(256)) * 1000)
    (source / "a.ipynb").chmod(0o640)
    os.utime(source / "a.ipynb", ns=(10**18, 10**18))
    (source / "link").symlink_to("a.ipynb")
    (source / "dangling").symlink_to("/nowhere")
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    _copy_tree(str(source), str(ours))
    import shutil
    shutil.copytree(source, theirs, symlinks=True)

    def listing(root):
        return sorted((str(path.relative_to(root)), path.is_symlink() and os.readlink(path),
                       not path.is_symlink() and path.stat().st_mode, path.is_file() and not path.is_symlink()
                       and (path.read_bytes(), path.stat().st_mtime_ns)) for path in root.rglob("*"))
    assert listing(ours) == listing(theirs)
    os.mkfifo(source / "fifo")
    with pytest.raises(OSError):
        _copy_tree(str(source), str(tmp_path / "again"))
