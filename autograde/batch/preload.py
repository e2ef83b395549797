"""Imported once before the local job processes start: what every job would otherwise import for itself.

The first job processes are forked from the batch's coordinator after it has imported this,
and any later one from multiprocessing's fork server, which imports it too (workers.py), so
what is imported here, every job has for free. Without this, each job would load
again the course's steps, keys and task checks (sympy, numpy), nbgrader's gradebook
engine, and nbconvert's HTML exporter with its parsers and IPython's lexers for the
feedback: about a second of every job. The judges' warm-up (judge.py) is done here too.

All of it lives as long as the process, and then it is frozen (``gc.freeze``): the collector's full
collections walk only what came after. Without that, each full collection of a job process walked these
≈200,000 objects, 0.14–0.19 CPU s every few jobs, and wrote to every page holding one, which a judge's
fork (judge.py) had just made copy-on-write in both processes.
"""
import difflib  # noqa: F401  (traitlets, when a config is loaded)
import gc
import importlib

import nbconvert.filters.markdown_mistune  # noqa: F401
import numpy.random  # noqa: F401  (the probes)
import sqlalchemy.dialects.sqlite  # noqa: F401
from IPython.lib.lexers import IPython3Lexer  # noqa: F401
from nbconvert.exporters import HTMLExporter  # noqa: F401

from course_lib import tasks

from .. import steps  # noqa: F401
from ..judge import warm_up
from ..keys import all_keys
from .workers import Local  # noqa: F401  (the job's own code)

all_keys()
for module, _ in tasks.REGISTRY.values():
    importlib.import_module(module)
warm_up()
gc.collect()  # what importing left as garbage is freed, not frozen
gc.freeze()
