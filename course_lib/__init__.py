"""Self-checks for exercise sheet 3, "Neural Networks and Backpropagation".

Students need one call::

    from course_lib import check
    check("a1", dh_dw)

Graded cells use ``hand_in(task_id, answer)``, which only hands the answer over
as data; the grade is decided outside the notebook's kernel. Messages speak the notebook's
language (German or English); ``set_language("en")`` chooses one for this kernel.
"""
from .check import check
from .answers import hand_in
from .i18n import set_language
from . import graded_run

graded_run.configure()

__all__ = ["check", "hand_in", "set_language"]
__version__ = "0.1.0"
