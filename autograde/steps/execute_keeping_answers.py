"""nbgrader's Execute, except that a dying kernel does not lose what already ran.

Stock Execute gives up on the whole notebook when the kernel dies (os._exit, a
segfault, the OOM killer), and the answers handed in before that are lost.
Outputs are written into the notebook cell by cell, so keeping the notebook as
it stands keeps them; the cells after the crash simply have no answer, and
resources["course_lib"]["stopped"] says why, for the verdict's message.
Afterwards the request file is removed so it does not travel into feedback.
"""
from __future__ import annotations

import os

from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute

from course_lib.answers import REQUEST_FILE


class ExecuteKeepingAnswers(Execute):
    def preprocess_cell(self, cell, resources, index):
        self._running = index
        return super().preprocess_cell(cell, resources, index)

    def preprocess(self, nb, resources, km=None):
        self._running = None
        try:
            return super().preprocess(nb, resources, km=km)
        except DeadKernelError:
            where = "before the first cell" if self._running is None else f"in cell {self._running + 1}"
            stopped = f"the kernel died {where}, so the cells after it did not run"
            self.log.warning("%s: %s", resources["nbgrader"]["student"], stopped)
            resources.setdefault("course_lib", {})["stopped"] = stopped
            if self._running is not None:
                nb.cells[self._running].outputs.append(
                    new_output("error", ename="KernelDied", evalue="the kernel died while running this cell",
                               traceback=[]))
            return nb, resources
        finally:
            path = os.path.join(resources.get("metadata", {}).get("path") or ".", REQUEST_FILE)
            if os.path.exists(path):
                os.remove(path)
