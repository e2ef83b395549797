"""Benchmark: `import course_lib` in a fresh interpreter, and self-check latency per task.

    python -m autograde.bench_selfcheck [--old TREE] [--no-load] [task ...]

For each task, in a fresh interpreter: the notebook's import cell and the reference
answers up to that task's graded cell run first; then the self-check is timed on
what the graded cell hands in: the first call (caches included), then the median
and worst of 20 further calls. Default thread settings (no OPENBLAS_NUM_THREADS), and
unless --no-load a second CPU-bound process runs beside, as a browser does on a laptop.

Each call is timed twice: CPU seconds of the kernel's process (time.process_time: user +
sys of all its threads, BLAS's included) and wall seconds. On a shared, loaded machine
the wall time says more about the neighbours than about the check, so CPU is the figure
to quote. --old TREE runs the same measurement on another checkout (e.g. `git archive`
of main) in the same run and prints the ratios new/old.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import nbformat

from .course import ASSIGNMENT, ROOT
from .samples.sources import without_markers

HAND_IN = re.compile(r'hand_in\("(\w+)", (.+)\)\s*$', re.M)
CALLS = 20


def setup_and_answer(task: str, root: Path = ROOT) -> tuple[str, str]:
    """(code that defines the reference answers before the task's graded cell, the handed-in expression)."""
    for path in sorted((root / "solutions" / ASSIGNMENT).glob("*.ipynb")):
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        setup = [cells[0].source]
        for cell in cells[1:]:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution"):
                setup.append(without_markers(cell.source))
            elif meta.get("grade_id") == task:
                return "\n".join(setup), HAND_IN.search(cell.source).group(2)
    raise KeyError(f"no graded cell {task!r} in solutions/{ASSIGNMENT}")


def all_tasks() -> list[str]:
    return [m.group(1) for p in sorted((ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb"))
            for cell in nbformat.read(p, as_version=4).cells for m in HAND_IN.finditer(cell.source)]


def import_time(root: Path) -> float:
    """CPU seconds of `import course_lib`, best of 5."""
    code = "import time; t = time.process_time(); import course_lib; print(time.process_time() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    cwd=root).stdout) for _ in range(5))


def latency(task: str, root: Path) -> dict:
    """{"cpu": [...], "wall": [...]} of the first and CALLS further self-checks, in seconds."""
    setup, answer = setup_and_answer(task, root)
    code = setup + textwrap.dedent(f"""
        import json, time
        from course_lib import check
        cpu, wall = [], []
        for _ in range({CALLS + 1}):
            c, t = time.process_time(), time.perf_counter()
            fb = check({task!r}, {answer})
            cpu.append(time.process_time() - c); wall.append(time.perf_counter() - t)
        assert not any(f.status in ("wrong", "invalid") for f in fb.findings), fb.text()
        print(json.dumps({{"cpu": cpu, "wall": wall}}))
        """)
    # cwd first on sys.path: the checkout's course_lib, not the installed one
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root,
                         env={"MPLBACKEND": "Agg", "PATH": str(Path(sys.executable).parent)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(times: list[float]) -> tuple[float, float, float]:
    """(first, median, worst) of the calls after the first, in ms."""
    rest = times[1:]
    return times[0] * 1000, statistics.median(rest) * 1000, max(rest) * 1000


@contextmanager
def cpu_bound_neighbour(on: bool):
    """A second process that keeps one core busy while the checks run."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if on else None
    try:
        yield
    finally:
        if proc:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tasks", nargs="*")
    ap.add_argument("--old", type=Path, help="another checkout to measure in the same run (ratios new/old)")
    ap.add_argument("--no-load", action="store_true", help="no CPU-bound process beside the checks")
    args = ap.parse_args()
    tasks = args.tasks or all_tasks()
    trees = {"new": ROOT, **({"old": args.old.resolve()} if args.old else {})}
    print(f"figures: CPU ms of the kernel process (user+sys, all threads), wall ms in brackets; "
          f"{CALLS} calls after the first; {'no neighbour' if args.no_load else 'a CPU-bound process beside'}")
    with cpu_bound_neighbour(not args.no_load):
        for name, root in trees.items():
            print(f"import course_lib ({name}, fresh interpreter, best of 5): {import_time(root) * 1000:.0f} ms CPU")
        head = f"{'task':8} {'':4} {'first':>17} {'median':>17} {'worst':>17}"
        print(head + ("   median new/old  first new/old" if args.old else ""))
        for task in tasks:
            runs = {name: latency(task, root) for name, root in trees.items()}
            for name, r in runs.items():
                cpu, wall = summary(r["cpu"]), summary(r["wall"])
                cells = " ".join(f"{c:7.1f} ({w:6.1f})" for c, w in zip(cpu, wall))
                line = f"{task:8} {name:4} {cells}"
                if name == "new" and "old" in runs:
                    old = summary(runs["old"]["cpu"])
                    line += f"   {cpu[1] / old[1]:14.2f}  {cpu[0] / old[0]:13.2f}"
                print(line)


if __name__ == "__main__":
    main()
