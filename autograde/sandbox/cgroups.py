"""The memory and process limits of one sandboxed kernel: a cgroup where the host gives one.

RLIMITs bound each process on its own; a cgroup bounds the kernel and everything it
forks together, and lists them, so that ending the notebook can end every one of
them. ``detect`` picks the strongest kind this host gives, once per process:

* ``v1``   — root, with the cgroup v1 ``memory`` and ``pids`` controllers mounted: a
  group in each, below the groups the grader runs in (memory.limit_in_bytes,
  memory.memsw.limit_in_bytes, pids.max; memory.oom_control and pids.events);
* ``v2``   — a writable group in the unified hierarchy: as root, or in a subtree
  systemd delegated to the grading user. One group per kernel (memory.max,
  memory.swap.max, pids.max; memory.events and pids.events; cgroup.kill ends it).
  The controllers a kernel group really has are listed in ``controllers``: systemd
  ignores limits on controllers it did not delegate, so they are read back from a
  probe group, not assumed;
* ``none`` — no group: the kernel's PID namespace still ends every process.

Whatever a kind does not cover (``uncovered``) the kernel gets as per-process
limits instead (settings.py, launcher.py), and the feedback says so.
"""
from __future__ import annotations

import functools
import os
import time
from _signal import SIGKILL  # (not signal.py's enums: the launcher imports this module, see protocol.py)

# Paths are strings, not pathlib's: the kernel launcher imports this module for every notebook, and
# pathlib would add a tenth to its start-up (urllib.parse, ipaddress, re).
ROOT = "/sys/fs/cgroup"
CONTROLLERS = ("memory", "pids")
LEAF = "course-grader-"  # the v2 leaf a grader moves itself into, so its parent may enable controllers
KINDS = ("auto", "v1", "v2", "none")


def _own_path(controller: str) -> str:
    """This process's group in the v1 ``controller``, e.g. "/" or "/process_api/6d78…"."""
    for line in read_text("/proc/self/cgroup").splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path
    raise OSError(f"no cgroup v1 '{controller}' controller is mounted")


def v1_problem() -> str | None:
    """Why cgroup v1 cannot bound kernels here, or None if it can."""
    try:
        for controller in CONTROLLERS:
            parent = os.path.join(ROOT, controller, _own_path(controller).lstrip("/"))
            if not os.path.exists(os.path.join(parent, "cgroup.procs")):
                return f"the cgroup v1 '{controller}' controller is not mounted at {os.path.join(ROOT, controller)}"
            if not os.access(parent, os.W_OK):
                return f"cannot create cgroups in {parent} (cgroup v1 needs root)"
    except OSError as e:
        return str(e)
    return None


def v2_mount() -> str | None:
    """Where the unified (v2) hierarchy is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts."""
    for line in read_text("/proc/self/mountinfo").splitlines():
        fields, _, tail = line.partition(" - ")
        if tail.split()[0] == "cgroup2":
            return fields.split()[4]
    return None


def v2_own() -> str | None:
    """This process's v2 group, as a folder."""
    mount = v2_mount()
    for line in read_text("/proc/self/cgroup").splitlines():
        if line.startswith("0::") and mount:
            return os.path.join(mount, line[3:].lstrip("/"))
    return None


def read_text(path: str) -> str:
    with open(path) as f:
        return f.read()


def write_text(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _mkdir(path: str) -> None:
    try:
        os.mkdir(path)
    except FileExistsError:
        pass


def read_words(path: str) -> set[str]:
    try:
        return set(read_text(path).split())
    except OSError:
        return set()


def v2_base() -> tuple[str | None, str]:
    """(the v2 group kernels' groups go in, with memory and pids enabled where it can be done; why not, if None).

    A group that holds processes cannot pass controllers on to children (cgroup v2's
    "no internal processes" rule), so the grader first moves itself, and whatever else
    runs in its group (`make`, the shell of a `systemd-run --scope`), into a leaf of its
    own, ``course-grader-<pid>``; its children (batch workers) start there, and the
    base stays the parent.
    """
    own = v2_own()
    if own is None:
        return None, "no cgroup v2 hierarchy is mounted"
    base = os.path.dirname(own) if os.path.basename(own).startswith(LEAF) else own
    if not os.access(base, os.W_OK) or not os.access(os.path.join(base, "cgroup.procs"), os.W_OK):
        return None, f"cannot create cgroups in {base} (not root, and no subtree delegated to this user)"
    missing = (set(CONTROLLERS) & read_words(os.path.join(base, "cgroup.controllers"))
               - read_words(os.path.join(base, "cgroup.subtree_control")))
    if missing:
        if base != v2_mount() and read_words(os.path.join(base, "cgroup.procs")):
            _move_into_leaf(base)
        try:
            write_text(os.path.join(base, "cgroup.subtree_control"), " ".join(f"+{c}" for c in sorted(missing)))
        except OSError:
            pass  # a process stayed in the group, or the controllers were not delegated: detect checks
    return base, ""


def _move_into_leaf(base: str) -> None:
    leaf = os.path.join(base, f"{LEAF}{os.getpid()}")
    _mkdir(leaf)
    for pid in sorted(read_words(os.path.join(base, "cgroup.procs")), key=lambda p: p != str(os.getpid())):  # ours first
        try:
            write_text(os.path.join(leaf, "cgroup.procs"), pid)
        except OSError:
            pass  # gone meanwhile, or not ours to move


@functools.cache
def detect(kind: str = "auto") -> dict:
    """The cgroup kind kernels get here: {"kind", and for v2 "base" and "controllers"}. OSError if ``kind`` cannot be had."""
    if kind in ("auto", "v1"):
        problem = v1_problem()
        if not problem:
            return {"kind": "v1", "controllers": list(CONTROLLERS)}
        if kind == "v1":
            raise OSError(problem)
    if kind in ("auto", "v2"):
        base, problem = v2_base()
        if base is not None:
            probe = os.path.join(base, f"course-probe-{os.getpid()}")
            _mkdir(probe)
            controllers = sorted(set(CONTROLLERS) & read_words(os.path.join(probe, "cgroup.controllers")))
            os.rmdir(probe)
            return {"kind": "v2", "base": str(base), "controllers": controllers}
        if kind == "v2":
            raise OSError(problem)
    return {"kind": "none", "controllers": []}


def remove_dead_leaves(groups: dict) -> None:
    """Remove the empty v2 leaves of graders that no longer run (v2_base moved them there)."""
    if groups["kind"] != "v2":
        return
    for name in os.listdir(groups["base"]):
        owner = name[len(LEAF):]
        if name.startswith(LEAF) and owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            try:
                os.rmdir(os.path.join(groups["base"], name))
            except OSError:
                pass  # still holds processes (a child of that grader): left for a later sweep


def uncovered(groups: dict) -> list[str]:
    """The controllers of CONTROLLERS that ``groups`` does not give (their limits fall back to RLIMITs)."""
    return [c for c in CONTROLLERS if c not in groups["controllers"]]


# Per kind: (the file counting OOM kills, the key in it)
OOM_EVENTS = {"v1": ("memory.oom_control", "oom_kill"), "v2": ("memory.events", "oom_kill")}


class KernelGroups:
    """The groups named ``name`` (the name of the kernel's sandbox folder) of the kind ``groups`` (from ``detect``)."""

    def __init__(self, name: str, groups: dict):
        self.kind, self.controllers = groups["kind"], groups["controllers"]
        if self.kind == "v1":
            self.paths = {c: os.path.join(ROOT, c, _own_path(c).lstrip("/"), name) for c in CONTROLLERS}
        elif self.kind == "v2":
            self.paths = {"unified": os.path.join(groups["base"], name)}
        else:
            self.paths = {}

    def _file(self, controller: str, name: str) -> str:
        return os.path.join(self.paths.get(controller) or self.paths["unified"], name)

    def exist(self) -> bool:
        return any(os.path.exists(path) for path in self.paths.values())

    def create(self, memory_bytes: int, processes: int) -> None:
        for path in self.paths.values():
            _mkdir(path)
        if "memory" in self.controllers:
            v1 = self.kind == "v1"
            write_text(self._file("memory", "memory.limit_in_bytes" if v1 else "memory.max"), str(memory_bytes))
            swap = self._file("memory", "memory.memsw.limit_in_bytes" if v1 else "memory.swap.max")
            if os.path.exists(swap):  # swap may not stretch the limit
                write_text(swap, str(memory_bytes) if v1 else "0")
        if "pids" in self.controllers:
            write_text(self._file("pids", "pids.max"), str(processes))

    def add(self, pid: int) -> None:
        """Move process ``pid`` into the groups; what it forks from then on is in them too."""
        for path in self.paths.values():
            write_text(os.path.join(path, "cgroup.procs"), str(pid))

    def join(self) -> None:
        """Move the calling process into the groups (run in the child before it execs the sandbox)."""
        self.add(os.getpid())

    def pids(self) -> set[int]:
        found = set()
        for path in self.paths.values():
            found.update(int(p) for p in read_words(os.path.join(path, "cgroup.procs")))
        return found

    def _counter(self, controller: str, file: str, key: str) -> int:
        if controller not in self.controllers:
            return 0
        try:
            lines = read_text(self._file(controller, file)).splitlines()
        except FileNotFoundError:
            return 0
        return sum(int(v) for k, v in (line.split() for line in lines) if k == key)

    def out_of_memory(self) -> bool:
        """True when the kernel's group hit its memory limit and the OOM killer struck in it."""
        return self.kind in OOM_EVENTS and self._counter("memory", *OOM_EVENTS[self.kind]) > 0

    def refused_processes(self) -> int:
        """How many forks were refused because the group already held its maximum of processes."""
        return self._counter("pids", "pids.events", "max")

    def _kill(self, path: str) -> None:
        kill = os.path.join(path, "cgroup.kill")  # v2 since Linux 5.14: every process at once, forks in flight included
        if os.path.exists(kill):
            write_text(kill, "1")
            return
        for pid in self.pids():
            try:
                os.kill(pid, SIGKILL)
            except ProcessLookupError:
                pass

    def remove(self, timeout: float = 5.0) -> None:
        """Kill whatever is left in the groups, then remove them (a group must be empty to go)."""
        deadline = time.monotonic() + timeout
        for path in self.paths.values():
            while os.path.exists(path):
                try:
                    self._kill(path)
                    os.rmdir(path)
                except FileNotFoundError:
                    pass
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
