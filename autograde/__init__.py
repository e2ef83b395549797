"""Instructor side of the course: keys, the nbgrader steps that judge answers, TA tools. Never shipped.

Every grading process imports this package before NumPy: nbgrader_config.py, ``python -m
autograde.batch`` and, through its environment, the batch's fork server. So it is where the grader
tells OpenBLAS, which reads its settings once as NumPy loads it, not to keep its idle threads
spinning: after every call they busy-wait 2**28 cycles (about 0.1 s) for the next one by default,
and a judge makes hundreds of calls between which its own Python runs, c2's finite differences at
full size above all. The helper thread then burned nearly as much CPU as the judge's own (≈60 ms of
c2's ≈180 ms a submission). The number of threads, so how a product is split and summed, and every
digit of a verdict, stay as they were; kernels run with one thread (sandbox/view.py). A value set
in the environment is left alone.

It is also where those processes stop jsonschema compiling grammars they never use as it loads
(defer_iri_grammars.py): about 2 CPU s of each.
"""
import os

from . import defer_iri_grammars  # noqa: F401  (before anything imports jsonschema)

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # 2**4 cycles, OpenBLAS's shortest
