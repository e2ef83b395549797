"""Benchmark: `import course_lib` in a fresh interpreter, and self-check latency per task.

    python -m autograde.bench_selfcheck [task ...]

For each task: the first call in a fresh interpreter (imports and caches included),
then the median and worst of 20 further calls, on the reference answer.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from .samples import reference_answers

ROOT = Path(__file__).resolve().parent.parent
SETUP = {  # what the notebooks' first code cells import, per task letter
    "a": "import sympy as sp\nfrom course_lib.tasks.a import x, w, h, sigma, dsigma, n, i\n",
}
ANSWER_VARIABLE = {"a1": "dh_dw", "a2": "a2"}


def run_in_fresh_interpreter(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import course_lib; print(time.perf_counter() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(5))


def latency(task: str) -> dict:
    answer = reference_answers(ROOT / "solutions" / "sheet03")[f"{task}_answer"]
    code = SETUP[task[0]] + answer + textwrap.dedent(f"""
        import json, time
        from course_lib import check
        times = []
        for _ in range(21):
            t = time.perf_counter(); fb = check({task!r}, {ANSWER_VARIABLE[task]}); times.append(time.perf_counter() - t)
        assert not any(f.status in ("wrong", "invalid") for f in fb.findings), fb.text()
        print(json.dumps(times))
        """)
    times = run_in_fresh_interpreter(code)
    return {"first": times[0], "median": statistics.median(times[1:]), "worst": max(times[1:])}


def main(tasks: list[str]) -> None:
    print(f"import course_lib (fresh interpreter, best of 5): {import_time() * 1000:.0f} ms")
    print(f"{'task':6} {'first':>9} {'median':>9} {'worst':>9}   (of 20 calls after the first)")
    for task in tasks:
        r = latency(task)
        print(f"{task:6} {r['first'] * 1000:7.0f} ms {r['median'] * 1000:7.1f} ms {r['worst'] * 1000:7.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:] or list(ANSWER_VARIABLE))
