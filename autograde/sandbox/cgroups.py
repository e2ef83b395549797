"""The memory and process limits of one sandboxed kernel, as a pair of cgroup v1 groups.

RLIMITs bound each process on its own (and RLIMIT_NPROC counts per user, across
kernels); a cgroup bounds the kernel and everything it forks together, and lists
them, so that ending the notebook can end every one of them. Each kernel gets a
``memory`` and a ``pids`` group named after its sandbox folder (see box.py),
created below the groups the grader itself runs in.

Only cgroup v1 controllers are supported (the course machines mount them); on a
host without them, ``check`` says so and grading stops instead of running kernels
without limits.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")


def _own_path(controller: str) -> str:
    """This process's group in ``controller``, e.g. "/" or "/process_api/6d78…"."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path
    raise OSError(f"no cgroup v1 '{controller}' controller is mounted")


def check() -> None:
    """Raise OSError saying why kernels cannot be given cgroups here."""
    for controller in CONTROLLERS:
        parent = ROOT / controller / _own_path(controller).lstrip("/")
        if not (parent / "cgroup.procs").exists():
            raise OSError(f"the cgroup v1 '{controller}' controller is not mounted at {ROOT / controller}")
        if not os.access(parent, os.W_OK):
            raise OSError(f"cannot create cgroups in {parent} (grading must run as root)")


class KernelGroups:
    """The memory and pids groups named ``name`` (the name of the kernel's sandbox folder)."""

    def __init__(self, name: str):
        self.paths = {c: ROOT / c / _own_path(c).lstrip("/") / name for c in CONTROLLERS}

    def create(self, memory_bytes: int, processes: int) -> None:
        for path in self.paths.values():
            path.mkdir(exist_ok=True)
        memory = self.paths["memory"]
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        if (memory / "memory.memsw.limit_in_bytes").exists():  # swap may not stretch the limit
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        (self.paths["pids"] / "pids.max").write_text(str(processes))

    def add(self, pid: int) -> None:
        """Move process ``pid`` into both groups; what it forks from then on is in them too."""
        for path in self.paths.values():
            (path / "cgroup.procs").write_text(str(pid))

    def join(self) -> None:
        """Move the calling process into both groups (run in the child before it execs the sandbox)."""
        self.add(os.getpid())

    def pids(self) -> set[int]:
        found = set()
        for path in self.paths.values():
            try:
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
            except FileNotFoundError:
                pass
        return found

    def _counter(self, controller: str, file: str, key: str) -> int:
        try:
            lines = (self.paths[controller] / file).read_text().splitlines()
        except FileNotFoundError:
            return 0
        return sum(int(v) for k, v in (line.split() for line in lines) if k == key)

    def out_of_memory(self) -> bool:
        """True when the kernel's group hit its memory limit and the OOM killer struck in it."""
        return self._counter("memory", "memory.oom_control", "oom_kill") > 0

    def refused_processes(self) -> int:
        """How many forks were refused because the group already held its maximum of processes."""
        return self._counter("pids", "pids.events", "max")

    def remove(self, timeout: float = 5.0) -> None:
        """Kill whatever is left in the groups, then remove them (a group must be empty to go)."""
        deadline = time.monotonic() + timeout
        for path in self.paths.values():
            while path.exists():
                for pid in self.pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    path.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)

