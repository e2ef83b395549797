"""nbgrader's Execute, except that a kernel that dies or hangs does not lose what already ran.

Stock Execute gives up on the whole notebook when the kernel dies (os._exit, a
segfault, the OOM killer) or a cell cannot be interrupted after its timeout, and
the answers handed in before that are lost. Outputs are written into the notebook
cell by cell, so keeping the notebook as it stands keeps them; the cells after the
stop simply have no answer. The notebook's Grading (steps/common.py, ``stopped``) and the
grading notes (autograde/notes.py) say what happened, for the verdicts and the feedback.
Afterwards the request file (steps/request_file.py) is removed.

Cells that only show something (autograde/display_cells.py) are not run: their output
is one line saying so.
"""
from __future__ import annotations

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute

from .. import display_cells
from ..language import _
from ..nodes import new_output
from ..notes import add_note, cell_label
from . import request_file
from .common import grading

IOPUB_TIMEOUT = "Timeout waiting for IOPub output"  # nbclient's words when a cell's output stops short of idle


class ExecuteKeepingAnswers(Execute):
    def preprocess_cell(self, cell, resources, index):
        if index in self._left_out:
            cell.outputs, cell.execution_count = [new_output("stream", name="stdout",
                                                             text=_(display_cells.NOT_RUN) + "\n")], None
            return cell, resources
        self._running, self._timed_out = index, False
        cell, resources = super().preprocess_cell(cell, resources, index)
        timeout = self.error_on_timeout.get("ename")
        if any(o.output_type == "error" and o.get("ename") == timeout for o in cell.get("outputs", [])):
            self.notes.append(_("{cell} exceeded the {seconds} s limit and was interrupted").format(
                cell=cell_label(self.nb, index), seconds=self.timeout))
        return cell, resources

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True  # an IOPub timeout after this is the interrupt failing, not slow output
        return await super()._async_handle_timeout(timeout, cell)

    def stop_cause(self) -> str:
        """Why the kernel died, as the start of a sentence (ExecuteInSandbox knows more)."""
        return _("the kernel died")

    def preprocess(self, nb, resources, km=None):
        self._running, self._timed_out = None, False
        meta = resources["nbgrader"]
        self._left_out = display_cells.skipped(nb.cells, display_cells.marked_sources(meta["assignment"],
                                                                                      meta["notebook"]))
        self.notes = []  # written into the notebook after the run: a notes cell must not shift cells mid-run
        try:
            return super().preprocess(nb, resources, km=km)
        except (DeadKernelError, CellTimeoutError) as e:
            label = _("starting the kernel") if self._running is None else cell_label(nb, self._running)
            if isinstance(e, CellTimeoutError) and IOPUB_TIMEOUT in str(e) and not self._timed_out:
                ename = "IOPubTimeout"
                cause = _("{cell} finished, but its output did not arrive within the {seconds} s IOPub timeout").format(
                    cell=label, seconds=self.iopub_timeout)
            elif isinstance(e, CellTimeoutError):
                ename = "CellTimeoutError"
                cause = _("{cell} exceeded the {seconds} s limit and could not be interrupted").format(
                    cell=label, seconds=self.timeout)
            else:
                where = (_("{cause} before the first cell") if self._running is None else _("{cause} in {cell}"))
                ename, cause = "KernelDied", where.format(cause=self.stop_cause(), cell=label)
            stopped = _("{cause}, so the cells after it did not run").format(cause=cause)
            self.log.warning("%s: %s", resources["nbgrader"]["student"], stopped)
            grading(resources).stopped = stopped
            self.notes.append(stopped)
            if self._running is not None:
                nb.cells[self._running].outputs.append(new_output("error", ename=ename, evalue=cause, traceback=[]))
            return nb, resources
        finally:
            for note in self.notes:
                add_note(nb, note)
            request_file.remove(resources)
