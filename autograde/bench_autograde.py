"""Benchmark: seconds per submission of `nbgrader autograde` against plain execution, in one run.

    python -m autograde.bench_autograde [N]

N copies of the reference submission are autograded in a scratch course with the
project's configuration; then every one of the same submitted notebooks is run
with `jupyter nbconvert --to notebook --execute` (with NBGRADER_EXECUTION=autograde, as
nbgrader sets it, so both do the same work). Both are timed in this run.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .practice import is_practice
from .samples import write_submission
from .scratch_course import ASSIGNMENT, Course


def main(copies: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        course = Course(Path(tmp))
        release = course.release()
        for k in range(copies):
            write_submission("reference", release, course.path / "solutions" / ASSIGNMENT,
                             course.submission_dir(f"student{k:03d}"))
        # autograde leaves the practice notebooks out, so the plain run does too
        notebooks = sorted(nb for nb in (course.path / "autograde" / "submitted").rglob("*.ipynb")
                           if not is_practice(nb))
        t = time.perf_counter()
        course.nbgrader("autograde", ASSIGNMENT, "--force")
        autograde = (time.perf_counter() - t) / copies
        # NBGRADER_EXECUTION as nbgrader sets it: notebooks that scale a demo down when graded do so here too
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               "NBGRADER_EXECUTION": "autograde"}
        t = time.perf_counter()
        for nb in notebooks:
            subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                            "--output", str(Path(tmp) / "plain.ipynb"), str(nb)],
                           check=True, capture_output=True, cwd=nb.parent, env=env)
        plain = (time.perf_counter() - t) / copies
    per_nb = len(notebooks) // copies
    print(f"{copies} submissions of {per_nb} notebook(s) each")
    print(f"nbgrader autograde (project config): {autograde:.2f} s per submission")
    print(f"jupyter nbconvert --execute:         {plain:.2f} s per submission")
    print(f"ratio: {autograde / plain:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
