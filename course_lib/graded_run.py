"""What changes when nbgrader runs the notebook for grading (NBGRADER_EXECUTION=autograde): figures are not rendered,
course_lib's drawings are not laid out, and a self-check only says that the grader judges the answer (check.py).

Points come from the handed-in data, never from a picture, and rendering a figure to a PNG is
a large share of a graded notebook's CPU time (the drawings, the plots). So in a graded run a
matplotlib figure is shown as one line saying it was not rendered and why; the feedback shows
that line where the student's notebook shows the picture. The student's own runs (no
NBGRADER_EXECUTION) are untouched. The grader never trusts this: it runs in the student's kernel,
which may undo it, and then only pays for the PNGs.
"""
from __future__ import annotations

import os
import sys

from .i18n import N_, _

# nbgrader sets NBGRADER_EXECUTION=autograde in the environment of the kernels it grades
EXECUTION_ENV, GRADED = "NBGRADER_EXECUTION", "autograde"
NOT_RENDERED = N_("[figure not rendered when grading: it appears when you run the notebook yourself]")


def graded() -> bool:
    return os.environ.get(EXECUTION_ENV) == GRADED


def skip_figures(shell) -> None:
    """Figures show as NOT_RENDERED in ``shell``: the inline backend renders no format, and a Figure's
    display is that one line (a mime bundle, which IPython asks for before its formatters; the inline
    backend resets those whenever it is activated, so a formatter of our own would not last)."""
    from matplotlib.figure import Figure
    from matplotlib_inline.config import InlineBackend

    InlineBackend.instance(parent=shell).figure_formats = set()
    Figure._repr_mimebundle_ = lambda fig, include=None, exclude=None: {"text/plain": _(NOT_RENDERED)}


def unrendered(ax=None):
    """What the drawing helpers (course_lib.draw) return in a graded run instead of a drawing: ``ax``'s
    figure, or an empty Figure; either shows as NOT_RENDERED. Laying a graph out costs as much as
    rendering it, and nothing of it would be seen."""
    from matplotlib.figure import Figure

    if ax is not None:
        return ax.figure
    figure = Figure()
    # shown as NOT_RENDERED even where skip_figures never ran (no shell yet when course_lib was imported)
    figure._repr_mimebundle_ = lambda include=None, exclude=None: {"text/plain": _(NOT_RENDERED)}
    return figure


def configure() -> None:
    """Called on `import course_lib`, and by the warm kernel server once a kernel's shell exists (it imported
    course_lib before): in a graded run inside IPython, skip rendering figures."""
    if not graded():
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and "matplotlib" in sys.modules:  # else there is no figure to skip yet
        skip_figures(shell)
