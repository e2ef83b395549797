"""nbgrader's Execute, except that a dying kernel does not lose what already ran.

Stock Execute gives up on the whole notebook when the kernel dies (os._exit, a
segfault, the OOM killer), and the answers handed in before that are lost.
Outputs are written into the notebook cell by cell, so keeping the notebook as
it stands keeps them; the cells after the crash simply have no answer.
Afterwards the request file is removed so it does not travel into feedback.
"""
from __future__ import annotations

import os

from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute

from course_lib.answers import REQUEST_FILE


class ExecuteKeepingAnswers(Execute):
    def preprocess(self, nb, resources, km=None):
        try:
            return super().preprocess(nb, resources, km=km)
        except DeadKernelError:
            index = getattr(self, "code_cells_executed", 0)
            self.log.warning("The kernel died during code cell %s; keeping the outputs before it", index)
            running = [c for c in nb.cells if c.cell_type == "code"][max(index - 1, 0):][:1]
            for cell in running:
                cell.outputs.append(new_output(
                    "error", ename="KernelDied", evalue="the kernel died while running this cell", traceback=[]))
            return nb, resources
        finally:
            path = os.path.join(resources.get("metadata", {}).get("path") or ".", REQUEST_FILE)
            if os.path.exists(path):
                os.remove(path)
