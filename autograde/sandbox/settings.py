"""The sandbox's switch and limits, configured in nbgrader_config.py as ``c.Sandbox.*``.

The limits hold per notebook. Wall time covers the whole notebook (nbgrader's
``Execute.timeout`` only bounds each cell); memory and processes cover the kernel
and everything it starts; output counts the bytes of everything the notebook shows
(nbgrader's LimitOutput only trims lines, after execution). The operating system
enforces the first three (launcher.py, cgroups.py); the grader counts the output as
it arrives (ExecuteInSandbox) and ends the kernel when it is exceeded.

Where the host gives no cgroup for memory or processes, those limits become
per-process limits (``rlimits``), weaker ones, and ``weaker_limits`` is the grading
note that says so.
"""
from __future__ import annotations

import math
import os

from traitlets import Bool, Enum, Float, Integer
from traitlets.config import Configurable

from . import cgroups, host, view


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be set up on this machine; grading stops rather than run kernels unconfined."""


class Sandbox(Configurable):
    enabled = Bool(True, help="Run each kernel in the sandbox. Turn off only for trusted notebooks.").tag(config=True)
    notebook_seconds = Float(600.0, help="Wall time for one whole notebook, kernel start included.").tag(config=True)
    memory_bytes = Integer(2 * 2**30, help="Memory of the kernel and all its processes together.").tag(config=True)
    processes = Integer(64, help="Processes (and threads) the kernel may run at once.").tag(config=True)
    output_bytes = Integer(16 * 2**20, help="Bytes of output one notebook may produce.").tag(config=True)
    warm_kernels = Bool(True, help="Fork kernels from a server that has already imported what they need "
                                   "(autograde/sandbox/warm.py), instead of starting each from a fresh "
                                   "interpreter, whose imports cost a small notebook most of its time.").tag(config=True)

    cgroups = Enum(cgroups.KINDS, "auto", help="Which cgroups bound a kernel: the strongest this host gives "
                                               "(auto), or v1, v2, or none (per-process limits only).").tag(config=True)

    def limits(self) -> dict:
        """What the launcher enforces, as written into the kernel's spec.json."""
        groups = cgroups.detect(self.cgroups)
        return {"notebook_seconds": self.notebook_seconds, "memory_bytes": self.memory_bytes,
                "processes": self.processes, "groups": groups, "rlimits": self.rlimits(groups),
                "user_namespaces": host.user_namespaces_problem() is None}

    def rlimits(self, groups: dict) -> dict[str, int]:
        """RLIMIT_<name> -> value for what ``groups`` does not bound: address space and file size for memory
        (files in the private /tmp are memory), processes of the kernel's user namespace, and CPU time."""
        weaker = cgroups.uncovered(groups)
        limits = {}
        if "memory" in weaker:
            limits.update(AS=self.memory_bytes, FSIZE=self.memory_bytes)
        if "pids" in weaker:
            limits["NPROC"] = self.processes
        if limits:
            limits["CPU"] = math.ceil(self.notebook_seconds)
        return limits

    def check(self) -> None:
        """Raise SandboxUnavailable saying what is missing, if kernels cannot be sandboxed here."""
        try:
            view.tools()
            problem = host.user_namespaces_problem()
            if problem and os.geteuid() != 0:  # (as root, kernels are users of their own without them)
                raise OSError(f"{problem}; the step that fixes it: {host.namespaces_step()}")
            cgroups.detect(self.cgroups)
        except OSError as e:
            raise SandboxUnavailable(
                f"the kernel sandbox cannot be set up: {e}. Grading stops instead of running student code "
                "unconfined; `make doctor` says what this host gives and the step that would fix it. To grade "
                "trusted notebooks without it, set c.Sandbox.enabled = False in nbgrader_config.py.") from None


def weaker_limits(spec: dict) -> str | None:
    """The grading note for a kernel whose memory or process limit was per process, or None."""
    from ..language import _   # here: the launcher imports this module and must start without the catalogues
    rlimits = spec.get("rlimits") or {}
    weaker = []
    if "AS" in rlimits:
        weaker.append(_("memory to {size} MiB of address space in each process, not in all together").format(
            size=f"{rlimits['AS'] / 2**20:g}"))
    if "NPROC" in rlimits:
        weaker.append(_("processes to {count} by a per-user count, not by a cgroup").format(count=rlimits["NPROC"]))
    if not weaker:
        return None
    return _("This host gives the sandbox no cgroup for {groups}, so weaker limits held: {limits}; CPU time to "
             "{seconds} s a process").format(groups=_(" and ").join(cgroups.uncovered(spec["groups"])),
                                             limits="; ".join(weaker), seconds=rlimits["CPU"])
