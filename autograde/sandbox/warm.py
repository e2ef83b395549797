"""Warm kernels: the grader's side of the warm kernel server (zygote.py).

``Zygote`` starts the server in a bwrap sandbox of its own: the system part of the
kernels' view (view.system_mounts), plus the temp folder where the graders make the
kernels' sandbox folders (and its socket), a staging point, and its own code.
It runs as root there (it needs to create namespaces and mounts for each kernel)
but no student code ever runs in it, and it dies with the process that started it.

``ensure_server`` names it to the launchers in $COURSE_SANDBOX_ZYGOTE; the launcher's
client of it is launcher.WarmKernel. A launcher with no server to ask starts a cold
kernel instead, so grading never depends on the server being there.
"""
from __future__ import annotations

import atexit
import os
import select
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from ..lifetime import die_with_parent
from .box import SERVER_PREFIX
from .view import (BIND, DIR, HOME, PROC, RO_BIND, TMPFS, ZYGOTE_ENV, Mount, View, bwrap_argv, font_cache,
                   kernel_env, launcher_env, system_mounts)
from .zygote import SERVER_ROOT, STAGING

ENV = ZYGOTE_ENV
SERVER = Path(__file__).parent  # autograde/sandbox/: the server runs zygote.py from it, and nothing else of ours
SERVER_NAMESPACES = ("mount", "net", "ipc", "uts", "cgroup")  # not pid: C's pid is the launcher's too (cgroups)
STARTUP_SECONDS = 120


def server_view(folder: Path) -> View:
    """The server's sandbox: the system part of the kernels' view; the temp folder that holds the kernels'
    sandbox folders and its own ``folder`` (socket, font list); a home and STAGING for C (zygote.py); its code."""
    temp, code = str(folder.parent), f"{SERVER_ROOT}/autograde"
    mounts = [Mount(PROC, "/proc"), Mount(TMPFS, "/dev/shm", mode="1777"), Mount(BIND, temp, temp),
              Mount(DIR, HOME, mode="0755"), Mount(BIND, f"{HOME}/.matplotlib", str(folder / "matplotlib")),
              Mount(DIR, STAGING, mode="0700"), Mount(RO_BIND, f"{code}/sandbox", str(SERVER)),
              *(Mount(RO_BIND, f"{code}/{name}", str(SERVER.parent / name))  # what the package's import runs
                for name in ("__init__.py", "defer_iri_grammars.py"))]
    if temp != "/tmp":
        mounts.append(Mount(TMPFS, "/tmp", mode="1777"))
    env = {**kernel_env(), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    return View(system_mounts() + mounts, SERVER_NAMESPACES, env, SERVER_ROOT)


class Zygote:
    """The warm kernel server, running in its sandbox until ``close`` or until its starter dies."""

    def __init__(self):
        self.starter = os.getpid()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{SERVER_PREFIX}{self.starter}-"))
        self.socket = self.folder / "socket"
        shutil.copytree(font_cache(), self.folder / "matplotlib")  # its own writable copy (launcher.prepare)
        server = [sys.executable, "-m", "autograde.sandbox.zygote", str(self.socket)]
        argv = bwrap_argv(server_view(self.folder)) + server
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=launcher_env(),
                                        preexec_fn=die_with_parent)
        started = select.select([self.process.stdout], [], [], STARTUP_SECONDS)[0]
        if not started or self.process.stdout.readline().strip() != b"ready":
            self.close()
            raise OSError(f"the warm kernel server did not start within {STARTUP_SECONDS} s (its error is above)")

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_shared: Zygote | None = None


def _own() -> Zygote | None:
    """The server this process started. One inherited through a fork (a batch's first job processes,
    workers.py) is its starter's: only the starter can tell if it still runs, and only it may end it."""
    return _shared if _shared is not None and _shared.starter == os.getpid() else None


def shared() -> Zygote:
    """This process's warm kernel server, started at the first call (and again if it died)."""
    global _shared
    _shared = _own()
    if _shared is not None and not _shared.alive():
        _shared.close()
        _shared = None
    if _shared is None:
        _shared = Zygote()
        atexit.register(_shared.close)
    return _shared


def ensure_server() -> None:
    """Point $COURSE_SANDBOX_ZYGOTE at a server: the one whoever started us named, else this process's own.

    If none can be started, say why and leave the variable unset: kernels then start cold.
    Without root they always do: the server forks each kernel into namespaces that need root to make.
    """
    if os.geteuid() != 0:
        os.environ.pop(ENV, None)
        warnings.warn("kernels start cold: warm kernels need root", RuntimeWarning, stacklevel=2)
        return
    given = os.environ.get(ENV)
    if given and not (_own() and given == str(_shared.socket)) and os.path.exists(given):
        return  # a batch's jobs share the coordinator's server (batch/workers.py)
    try:
        os.environ[ENV] = str(shared().socket)
    except OSError as e:
        os.environ.pop(ENV, None)
        warnings.warn(f"kernels start cold: {e}", RuntimeWarning, stacklevel=2)
