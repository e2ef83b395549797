"""ExecuteKeepingAnswers with the kernel in the sandbox (autograde/sandbox) and within the notebook's limits.

nbgrader fixes Execute's kernel manager class, so the sandbox comes in through the
kernel instead: this step starts the ``course-sandbox`` kernelspec, whose argv is
the sandbox launcher, over unix sockets in the kernel's sandbox folder (the kernel
has no network), and interrupts it by message. Before the first notebook it checks
that the sandbox can be set up and stops grading with the reason if not.

The output limit is counted here, as messages arrive: past it, further output is
dropped and the kernel is killed, so a notebook printing gigabytes costs neither
the grader's memory nor its time. When the kernel stops early, the sandbox tells
why (time budget, memory, output), and the notes say if the notebook tried to run
more processes than allowed.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import default

from ..notes import add_note
from ..sandbox import Sandbox, warm
from ..sandbox.box import Box, sweep
from ..sandbox.settings import weaker_limits
from .execute_keeping_answers import ExecuteKeepingAnswers

KERNELS = Path(__file__).resolve().parent.parent / "sandbox" / "kernels"
KERNEL_NAME = "course-sandbox"
OUTPUT_MESSAGES = {"stream", "display_data", "execute_result", "update_display_data", "error"}


def _size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


class ExecuteInSandbox(ExecuteKeepingAnswers):
    @default("shutdown_kernel")
    def _kill_at_the_end(self):
        return "immediate"  # the sandbox ends everything anyway; waiting for a polite exit only costs time

    @default("extra_arguments")
    def _no_history(self):
        return ["--HistoryManager.enabled=False"]  # nobody reads a graded kernel's input history

    def preprocess(self, nb, resources, km=None):
        self.sandbox = Sandbox(parent=self)
        if not self.sandbox.enabled:
            return super().preprocess(nb, resources, km=km)
        self.sandbox.check()
        sweep()
        if self.sandbox.warm_kernels:
            warm.ensure_server()
        else:
            os.environ.pop(warm.ENV, None)
        self.box = Box.create(self.sandbox.limits())
        self.output_left = self.sandbox.output_bytes
        self.over_output = None
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
            refused = self.box.groups.refused_processes()
            if refused:
                add_note(nb, f"The notebook tried to run more than {self.sandbox.processes} processes at once; "
                             f"{refused} were refused")
            if self.box.groups.out_of_memory() and "stopped" not in resources.get("course_lib", {}):
                add_note(nb, f"A process of the notebook ran out of memory ({_size(self.sandbox.memory_bytes)}) "
                             "and was ended")
            if weaker_limits(self.box.spec()):
                add_note(nb, weaker_limits(self.box.spec()))
            return nb, resources
        finally:
            self.box.remove()

    def create_kernel_manager(self):
        if not self.sandbox.enabled:
            return super().create_kernel_manager()
        self.kernel_name = KERNEL_NAME
        km = super().create_kernel_manager()
        km.kernel_spec_manager = KernelSpecManager(kernel_dirs=[str(KERNELS)])
        km.transport = "ipc"
        km.ip = self.box.address
        return km

    def stop_cause(self) -> str:
        if not self.sandbox.enabled:
            return super().stop_cause()
        if self.over_output:
            return self.over_output
        stopped = self.box.report().get("stopped")
        if stopped:
            return stopped
        if self.box.groups.out_of_memory():
            return f"the kernel ran out of memory ({_size(self.sandbox.memory_bytes)})"
        return super().stop_cause()

    def process_message(self, msg, cell, cell_index):
        if self.sandbox.enabled and msg["msg_type"] in OUTPUT_MESSAGES:
            self.output_left -= len(json.dumps(msg["content"], default=str))
            if self.output_left < 0:
                if not self.over_output:
                    self.over_output = f"the notebook's output passed its limit of {_size(self.sandbox.output_bytes)}"
                    asyncio.ensure_future(self.km.signal_kernel(signal.SIGKILL))
                return None
        return super().process_message(msg, cell, cell_index)
