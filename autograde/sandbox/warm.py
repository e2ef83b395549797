"""Warm kernels: the grader's side of the warm kernel server (zygote.py).

``Zygote`` starts the server in a bwrap sandbox of its own: the kernels' view
(view.py) without a home of its own, plus the temp folder where the graders make
the kernels' sandbox folders, a staging point for a kernel's ipc/, and its socket.
It runs as root there (it needs to create namespaces and mounts for each kernel)
but no student code ever runs in it, and it dies with the process that started it.

``WarmKernel`` is the launcher's client: it asks the server for a kernel over the
socket named in $COURSE_SANDBOX_ZYGOTE, puts the process that will become the
kernel into the kernel's cgroups before it starts, and waits for its exit code.
A launcher with no server to ask starts a cold kernel instead, so grading never
depends on the server being there.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from ..lifetime import die_with_parent
from .box import SERVER_PREFIX, Box
from .view import (HOME, NAMESPACES, ZYGOTE_ENV, bwrap_argv, font_cache, kernel_env, launcher_env, passed_env,
                   runtime_paths)
from .zygote import PARKING, STAGING

ENV = ZYGOTE_ENV
SERVER = Path(__file__).with_name("zygote.py")
SERVER_INSIDE = "/run/course-zygote.py"
STARTUP_SECONDS = 120


class Zygote:
    """The warm kernel server, running in its sandbox until ``close`` or until its starter dies."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix=f"{SERVER_PREFIX}{os.getpid()}-"))
        self.socket = self.folder / "socket"
        temp = os.path.dirname(self.folder)
        matplotlib = self.folder / "matplotlib"  # its own writable copy of the font list (launcher.prepare)
        shutil.copytree(font_cache(), matplotlib)
        mounts = [("--bind", temp, temp), ("--perms", "0755", "--dir", HOME), ("--perms", "0700", "--dir", PARKING),
                  ("--bind", str(matplotlib), f"{HOME}/.matplotlib"), ("--perms", "0700", "--dir", STAGING),
                  ("--ro-bind", str(SERVER), SERVER_INSIDE)]
        if temp != "/tmp":
            mounts.append(("--perms", "1777", "--tmpfs", "/tmp"))
        env = {**kernel_env(), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        argv = bwrap_argv(NAMESPACES, mounts, env) + [sys.executable, SERVER_INSIDE, str(self.socket),
                                                      *outermost(runtime_paths())]
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


def outermost(paths: list[str]) -> list[str]:
    """The mount points among ``paths`` that no other one contains (moving those moves the rest along)."""
    return [p for p in paths if not any(q != p and os.path.commonpath([p, q]) == q for q in paths)]


_shared: Zygote | None = None


def shared() -> Zygote:
    """This process's warm kernel server, started at the first call (and again if it died)."""
    global _shared
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
    if given and not (_shared and given == str(_shared.socket)) and os.path.exists(given):
        return  # a batch's jobs share the coordinator's server (batch/workers.py)
    try:
        os.environ[ENV] = str(shared().socket)
    except OSError as e:
        os.environ.pop(ENV, None)
        warnings.warn(f"kernels start cold: {e}", RuntimeWarning, stacklevel=2)


class WarmKernel:
    def __init__(self, connection: socket.socket, stderr, stream):
        self.connection, self.stderr, self.stream = connection, stderr, stream

    @classmethod
    def start(cls, box: Box, spec: dict, kernel_args: list[str]) -> "WarmKernel | None":
        """A kernel forked by the server named in $COURSE_SANDBOX_ZYGOTE, or None if none answers."""
        path = os.environ.get(ENV)
        if not path or os.path.dirname(os.path.dirname(path)) != str(box.path.parent):
            return None  # no server, or one that cannot see this sandbox folder
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        read, write = os.pipe()
        try:
            connection.connect(path)
            socket.send_fds(connection, [b"K"], [write])
            stream = connection.makefile("rwb", buffering=0)
            request = {"box": str(box.path), "env": passed_env(), "args": kernel_args,
                       **{k: spec[k] for k in ("uid", "rlimits", "user_namespaces")}}
            stream.write(json.dumps(request).encode() + b"\n")
            pid = stream.readline()
            if not pid.strip():
                raise OSError("the warm kernel server hung up")
            box.groups.add(int(pid))
            stream.write(b"go\n")
        except OSError:
            os.close(read)
            connection.close()
            return None
        finally:
            os.close(write)
        return cls(connection, os.fdopen(read, "rb"), stream)

    def wait(self, timeout: float | None) -> int | None:
        """The kernel's exit code, or None if it still runs after ``timeout`` seconds."""
        if not select.select([self.connection], [], [], timeout)[0]:
            return None
        code = self.stream.readline()
        return int(code) if code.strip() else -9

    def kill(self) -> None:
        """End the kernel: the server's process kills its namespace when the connection closes for writing."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
