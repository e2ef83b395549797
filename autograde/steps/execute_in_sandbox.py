"""ExecuteKeepingAnswers with the kernel in the sandbox (autograde/sandbox) and within the notebook's limits.

nbgrader fixes Execute's kernel manager class, so the sandbox comes in through the
kernel instead: this step starts the ``course-sandbox`` kernelspec, whose argv is
the sandbox launcher, over unix sockets in the kernel's sandbox folder (the kernel
has no network), and interrupts it by message. The launcher starts with none of the
grader's variables (view.launcher_env), so it never holds the secret and need not
replace itself with a copy that does not. Before the first notebook it checks
that the sandbox can be set up and stops grading with the reason if not.

The output limit is counted here, as messages arrive, over every byte of every
message (autograde/messages.py): past it, or at a malformed or absurdly nested
message, further messages are dropped and the kernel is killed, so a notebook
printing gigabytes costs neither the grader's memory nor its time, and a bad
message costs only the cells after it. Comm messages are counted and otherwise
ignored: no widget state is kept or written into the notebook. A display update
(``update_display_data``, or display data reusing a ``display_id``) from another
cell never reaches a graded cell's outputs, so each answer payload comes from its
own graded cell's execution. When the kernel stops early, the sandbox tells
why (time budget, memory, output), and the notes say if the notebook tried to run
more processes than allowed.
"""
from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from nbclient.util import run_sync
from traitlets import default

from .. import messages
from ..messages import size
from ..language import _
from ..notes import add_note, cell_label
from ..sandbox import warm, zygote
from ..sandbox.box import Box, sweep
from ..sandbox.settings import Sandbox, weaker_limits
from ..sandbox.view import launcher_env
from .common import grading, is_judged
from .execute_keeping_answers import ExecuteKeepingAnswers

KERNELS = Path(__file__).resolve().parent.parent / "sandbox" / "kernels"
KERNEL_NAME = "course-sandbox"
FRAME_SLACK = 2**20  # a frame may be a little over the limit: the kernel is then ended by the count


class ExecuteInSandbox(ExecuteKeepingAnswers):
    @default("shutdown_kernel")
    def _kill_at_the_end(self):
        return "immediate"  # the sandbox ends everything anyway; waiting for a polite exit only costs time

    @default("extra_arguments")
    def _no_history(self):
        return list(zygote.GRADED_ARGS)  # no input history: nobody reads a graded kernel's

    @default("store_widget_state")
    def _no_widget_state(self):
        return False  # a kernel's widgets are not part of any answer

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
        self.over_output = None
        try:
            nb, resources = super().preprocess(nb, resources, km=km)
            refused = self.box.groups.refused_processes()
            if refused:
                add_note(nb, _("The notebook tried to run more than {limit} processes at once; {refused} were "
                               "refused").format(limit=self.sandbox.processes, refused=refused))
            if self.box.groups.out_of_memory() and not grading(resources).stopped:
                add_note(nb, _("A process of the notebook ran out of memory ({size}) and was ended").format(
                    size=size(self.sandbox.memory_bytes)))
            if weaker_limits(self.box.spec()):
                add_note(nb, weaker_limits(self.box.spec()))
            return nb, resources
        finally:
            self.box.remove()

    async def async_start_new_kernel(self, **kwargs):
        if self.sandbox.enabled:
            kwargs["env"] = launcher_env()
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)  # (nbclient's wraps its own async_start_new_kernel)

    def create_kernel_manager(self):
        if not self.sandbox.enabled:
            return super().create_kernel_manager()
        self.kernel_name = KERNEL_NAME
        km = super().create_kernel_manager()
        km.kernel_spec_manager = KernelSpecManager(kernel_dirs=[str(KERNELS)])
        km.transport = "ipc"
        km.ip = self.box.address
        messages.bound_sockets(km.context, self.sandbox.output_bytes + FRAME_SLACK)
        make_client = km.client

        def guarded_client(**kwargs):  # each client deserialises with a clone of km.session: guard that one
            client = make_client(**kwargs)
            messages.guard(client.session, self.sandbox.output_bytes, self._end_kernel)
            return client
        km.client = guarded_client
        return km

    def _end_kernel(self, why: str) -> None:
        if not self.over_output:
            self.over_output = why
            self.log.warning("ending the kernel: %s", why)
            asyncio.ensure_future(self.km.signal_kernel(signal.SIGKILL))

    def stop_cause(self) -> str:
        if not self.sandbox.enabled:
            return super().stop_cause()
        if self.over_output:
            return self.over_output
        if self.box.report().get("stopped") == "notebook_seconds":
            return _("the notebook used up its time budget of {seconds} s").format(
                seconds=f"{self.box.spec()['notebook_seconds']:g}")
        if self.box.groups.out_of_memory():
            return _("the kernel ran out of memory ({size})").format(size=size(self.sandbox.memory_bytes))
        return super().stop_cause()

    def handle_comm_msg(self, outs, msg, cell_index):
        """Counted (messages.guard) and dropped: no comm objects, no widget state, no output widgets."""

    def _update_display_id(self, display_id, msg):
        """Apply a display update except to graded cells other than the one running."""
        targets = self._display_id_map.get(display_id, {})
        kept = {index: targets.pop(index) for index in list(targets)
                if index != self._running and is_judged(self.nb.cells[index]) and targets[index]}
        try:
            super()._update_display_id(display_id, msg)
        finally:
            targets.update(kept)
        for index in kept:
            note = (f"{cell_label(self.nb, self._running)} tried to change the output of "
                    f"{cell_label(self.nb, index)}; that was refused")
            if note not in self.notes:
                self.notes.append(note)
