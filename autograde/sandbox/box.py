"""One kernel's sandbox folder and cgroups, from the grader creating them to the grader removing them.

    <tmp>/course-sandbox-<grader pid>-<random>/      (root only, 0700)
        spec.json    the kernel's user and limits, written by the grader for the launcher
        ipc/         the kernel's ZeroMQ sockets and its copy of the connection file
        home/        the kernel's $HOME; home/work is a copy of the notebook's folder
        report.json  why the launcher stopped the kernel, if it did

Only ipc/ and home/ are mounted into the sandbox, and they belong to the kernel's
user. The grader finds the folder again from the kernel's ZeroMQ address
(``<box>/ipc/kernel``), so the launcher needs no other argument.

The grader removes the folder and the cgroups when the notebook is done, whatever
became of the launcher (jupyter_client may SIGKILL it); ``sweep`` removes those of
graders that were killed themselves.
"""
from __future__ import annotations

import functools
import os

from . import cgroups, plain_json

PREFIX = "course-sandbox-"
SERVER_PREFIX = "course-zygote-"  # the warm kernel server's folder (warm.py), named like a box after its grader
JOB_PREFIX = "course-job-"  # a batch job's throw-away course (batch/job.py), named after its job process
BATCH_PREFIX = "course-batch-"  # a local batch's folder for its jobs (batch/workers.py), named after the batch
# Kernel users: this base plus the grader's pid, so that concurrent graders never share one.
# (RLIMIT_NPROC and file ownership are per user; the base stays clear of real accounts.)
UID_BASE = 2**30


def kernel_uid() -> int:
    """As root, a user of this grader's own; without root, the grader's user (in user namespaces of the kernel's own)."""
    return UID_BASE + os.getpid() if os.geteuid() == 0 else os.getuid()


class Box:
    """The folder's paths are strings: the launcher does without pathlib (cgroups.py)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.ipc = os.path.join(self.path, "ipc")
        self.home = os.path.join(self.path, "home")
        self.work = os.path.join(self.home, "work")

    @functools.cached_property
    def groups(self) -> cgroups.KernelGroups:
        try:
            kind = self.spec()["groups"]
        except (OSError, ValueError, KeyError):
            kind = cgroups.detect()  # a folder left half-made: its groups, if any, are of this host's kind
        return cgroups.KernelGroups(os.path.basename(self.path), kind)

    @classmethod
    def create(cls, spec: dict) -> "Box":
        """A new, empty sandbox folder for one kernel of this grader, holding ``spec``."""
        import tempfile  # here, as in sweep: the grader's, not the launcher's, which imports this module
        box = cls(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        cgroups.write_text(os.path.join(box.path, "spec.json"), plain_json.dumps({"uid": kernel_uid(), **spec}))
        return box

    @classmethod
    def of_address(cls, ip: str) -> "Box":
        return cls(os.path.dirname(os.path.dirname(ip)))

    @property
    def address(self) -> str:
        """The kernel's ZeroMQ address for the ipc transport (jupyter_client appends -<port>)."""
        return os.path.join(self.ipc, "kernel")

    def spec(self) -> dict:
        return plain_json.loads(cgroups.read_text(os.path.join(self.path, "spec.json")))

    def report(self) -> dict:
        try:
            return plain_json.loads(cgroups.read_text(os.path.join(self.path, "report.json")))
        except FileNotFoundError:
            return {}

    def write_report(self, **report) -> None:
        tmp = os.path.join(self.path, "report.json.tmp")
        cgroups.write_text(tmp, plain_json.dumps(report))
        os.replace(tmp, os.path.join(self.path, "report.json"))

    def remove(self) -> None:
        """End every process left in the kernel's cgroups, then remove them and the folder."""
        import shutil  # here: the grader's (the launcher imports this module)
        if self.groups.exist():
            self.groups.remove()
        shutil.rmtree(self.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def sweep() -> None:
    """Remove the sandboxes and job folders left behind by graders that no longer run."""
    import tempfile
    temp = tempfile.gettempdir()
    for name in os.listdir(temp):
        for prefix in (PREFIX, SERVER_PREFIX, JOB_PREFIX, BATCH_PREFIX):
            owner = name[len(prefix):].split("-", 1)[0]
            if name.startswith(prefix) and owner.isdigit() and not _alive(int(owner)):
                Box(os.path.join(temp, name)).remove()
                break
    cgroups.remove_dead_leaves(cgroups.detect())
