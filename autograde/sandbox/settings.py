"""The sandbox's switch and limits, configured in nbgrader_config.py as ``c.Sandbox.*``.

The limits hold per notebook. Wall time covers the whole notebook (nbgrader's
``Execute.timeout`` only bounds each cell); memory and processes cover the kernel
and everything it starts; output counts the bytes of everything the notebook shows
(nbgrader's LimitOutput only trims lines, after execution). The operating system
enforces the first three (launcher.py, cgroups.py); the grader counts the output as
it arrives (ExecuteInSandbox) and ends the kernel when it is exceeded.
"""
from __future__ import annotations

import os

from traitlets import Bool, Float, Integer
from traitlets.config import Configurable

from . import cgroups, view


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

    def limits(self) -> dict:
        """What the launcher enforces, as written into the kernel's spec.json."""
        return {"notebook_seconds": self.notebook_seconds, "memory_bytes": self.memory_bytes,
                "processes": self.processes}

    @staticmethod
    def check() -> None:
        """Raise SandboxUnavailable saying what is missing, if kernels cannot be sandboxed here."""
        try:
            if os.geteuid() != 0:
                raise OSError("grading must run as root to start kernels as an unprivileged user")
            view.tools()
            cgroups.check()
        except OSError as e:
            raise SandboxUnavailable(
                f"the kernel sandbox cannot be set up: {e}. Grading stops instead of running student code "
                "unconfined; to grade trusted notebooks without it, set c.Sandbox.enabled = False "
                "in nbgrader_config.py.") from None
