"""What runs on this machine, read from /proc: for the tests that no student process survives grading."""
from __future__ import annotations

from pathlib import Path

from autograde.sandbox.box import UID_BASE


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
    """Processes of a kernel user that no live sandbox launcher runs: there must never be any."""
    processes = table()
    launcher = {pid for pid, (_, _, cmd) in processes.items() if b"course-sandbox/launch.py" in cmd}
    return [pid for pid, (_, uid, _) in processes.items()
            if uid >= UID_BASE and not descends(pid, launcher.__contains__, processes)]
