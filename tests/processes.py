"""What runs on this machine, read from /proc: for the tests that no student process survives grading."""
from __future__ import annotations

import tempfile
from pathlib import Path

from autograde.sandbox.box import PREFIX, UID_BASE


def table() -> dict[int, tuple[int, int, bytes]]:
    """pid -> (parent pid, uid, command line) of every process."""
    out = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            out[int(proc.name)] = (parent, (proc / "status").stat().st_uid, (proc / "cmdline").read_bytes())
        except (OSError, ValueError):
            continue
    return out


def descends(pid: int, ancestor, processes: dict) -> bool:
    """True when ``ancestor(pid)`` holds for ``pid`` or a process above it."""
    while pid > 1 and pid in processes:
        if ancestor(pid):
            return True
        pid = processes[pid][0]
    return False


def stray_kernel_processes() -> list[int]:
    """Processes of a kernel user outside the cgroups of a live sandbox: there must never be any."""
    return [pid for pid, (_, uid, _) in table().items() if uid >= UID_BASE and not _in_live_sandbox(pid)]


def _in_live_sandbox(pid: int) -> bool:
    try:
        groups = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return True  # gone meanwhile
    names = {line.rsplit("/", 1)[-1] for line in groups.splitlines()}
    return any(name.startswith(PREFIX) and (Path(tempfile.gettempdir()) / name).is_dir() for name in names)
