"""Benchmark: `import course_lib` in a fresh interpreter, and self-check latency per task.

    python -m autograde.bench_selfcheck [task ...]

For each task, in a fresh interpreter: the notebook's import cell and the reference
answers up to that task's graded cell run first; then the self-check is timed on
what the graded cell hands in: the first call (caches included), then the median
and worst of 20 further calls.
"""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

from .samples.sources import without_markers

ROOT = Path(__file__).resolve().parent.parent
HAND_IN = re.compile(r'hand_in\("(\w+)", (.+)\)\s*$', re.M)


def setup_and_answer(task: str) -> tuple[str, str]:
    """(code that defines the reference answers before the task's graded cell, the handed-in expression)."""
    for path in sorted((ROOT / "solutions" / "sheet03").glob("*.ipynb")):
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        setup = [cells[0].source]
        for cell in cells[1:]:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                setup.append(without_markers(cell.source))
            elif meta.get("grade_id") == task:
                return "\n".join(setup), HAND_IN.search(cell.source).group(2)
    raise KeyError(f"no graded cell {task!r} in solutions/sheet03")


def all_tasks() -> list[str]:
    return [m.group(1) for p in sorted((ROOT / "solutions" / "sheet03").glob("*.ipynb"))
            for cell in nbformat.read(p, as_version=4).cells for m in HAND_IN.finditer(cell.source)]


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import course_lib; print(time.perf_counter() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(5))


def latency(task: str) -> dict:
    setup, answer = setup_and_answer(task)
    code = setup + textwrap.dedent(f"""
        import json, time
        from course_lib import check
        times = []
        for _ in range(21):
            t = time.perf_counter(); fb = check({task!r}, {answer}); times.append(time.perf_counter() - t)
        assert not any(f.status in ("wrong", "invalid") for f in fb.findings), fb.text()
        print(json.dumps(times))
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"MPLBACKEND": "Agg", "PATH": str(Path(sys.executable).parent)})
    times = json.loads(out.stdout.strip().splitlines()[-1])
    return {"first": times[0], "median": statistics.median(times[1:]), "worst": max(times[1:])}


def main(tasks: list[str]) -> None:
    print(f"import course_lib (fresh interpreter, best of 5): {import_time() * 1000:.0f} ms")
    print(f"{'task':8} {'first':>9} {'median':>9} {'worst':>9}   (of 20 calls after the first)")
    for task in tasks:
        r = latency(task)
        print(f"{task:8} {r['first'] * 1000:7.0f} ms {r['median'] * 1000:7.1f} ms {r['worst'] * 1000:7.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:] or all_tasks())
