"""Benchmark of grading a whole class (README, "Grading a whole class"): run it, do not import it.

    .venv/bin/python tests/bench_grading.py --submissions 100 --workers 2

On a fresh course with the task (a) notebook (the small notebook) it measures, in one run:

1. honest submissions: stock ``nbgrader autograde`` (the course's steps, sandbox off)
   against ``python -m autograde.batch`` serial and with ``--workers``;
2. a mixed class (honest, wrong, and a share of pathological submissions: endless
   loops, memory and output floods, crashes) serial and parallel;
3. plain execution of the same notebooks (nbclient, no nbgrader, no sandbox), for the
   per-submission overhead; kernel start-up with and without the sandbox; and the
   wall time one runaway notebook costs against its budget.

Wall times are what a TA waits; CPU seconds (a cpuacct cgroup around each command,
kernels included) do not depend on what else the machine runs. The limits used for
the pathological share are printed with the results.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from autograde.samples import students, write_submission  # noqa: E402
from autograde.samples.hostile import cases, write_case  # noqa: E402
try:
    from autograde.course import ASSIGNMENT, ROOT  # noqa: E402
except ImportError:  # with --old, a checkout from before autograde/course.py
    from autograde.report import ASSIGNMENT, ROOT  # noqa: E402
from autograde.scratch_course import Course  # noqa: E402

NOTEBOOK = "a_vanishing_gradient.ipynb"
CELL_SECONDS, NOTEBOOK_SECONDS = 10, 30
PATHOLOGICAL = ["hostile_loop", "hostile_ignore_sigint", "hostile_memory", "hostile_print_flood",
                "hostile_fork_bomb", "hostile_outlive"]
CPUACCT = Path("/sys/fs/cgroup/cpuacct")


def measure(name: str, argv: list[str], cwd: Path) -> dict:
    """Wall and CPU seconds of ``argv`` and everything it starts (cpuacct cgroup)."""
    group = CPUACCT / f"course-bench-{os.getpid()}-{name}"
    group.mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          preexec_fn=lambda: (group / "cgroup.procs").write_text(str(os.getpid())))
    wall = time.perf_counter() - started
    while (group / "cgroup.procs").read_text().strip():  # the fork server ends a moment after the batch
        time.sleep(0.05)
    cpu = int((group / "cpuacct.usage").read_text()) / 1e9
    group.rmdir()
    if done.returncode not in (0, 1):
        sys.exit(f"{name} failed:\n{done.stdout[-3000:]}")
    return {"name": name, "wall": wall, "cpu": cpu}


def course(folder: Path, submissions: dict[str, tuple], limits: bool, whole_sheet: bool = False) -> Course:
    """A course with only the small notebook (or the whole sheet) and the given submissions (student -> writer)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    c = Course(folder)
    for nb in (folder / "solutions" / ASSIGNMENT).glob("*.ipynb"):
        if nb.name != NOTEBOOK and not whole_sheet:
            nb.unlink()
    if limits:
        with open(folder / "nbgrader_config.py", "a") as f:
            f.write(f"\nc.Execute.timeout = {CELL_SECONDS}\nc.Sandbox.notebook_seconds = {NOTEBOOK_SECONDS}\n")
    release = c.release()
    for student, write in submissions.items():
        write(student, release, folder / "solutions" / ASSIGNMENT, c.submission_dir(student))
    return c


def honest(n: int) -> dict:
    return {f"s{i:03d}": lambda s, r, src, out: write_submission("reference", r, src, out) for i in range(n)}


def mixed(n: int, share: float) -> dict:
    """Honest, wrong and pathological submissions in the proportions of a real class."""
    wrong = [s for s in students() if s not in ("reference", "blank")]
    bad = cases(CELL_SECONDS)
    out = {}
    for i in range(n):
        if i < round(n * share):
            name = PATHOLOGICAL[i % len(PATHOLOGICAL)]
            out[f"p{i:03d}_{name}"] = lambda s, r, src, o, case=bad[name]: write_case(case, r, src, o, {})
        elif i % 4 == 3:
            out[f"w{i:03d}"] = lambda s, r, src, o, base=wrong[i % len(wrong)]: write_submission(base, r, src, o)
        else:
            out[f"h{i:03d}"] = lambda s, r, src, o: write_submission("reference", r, src, o)
    return out


def plain_execution(c: Course) -> dict:
    """Execute every submitted notebook with nbclient: no nbgrader, no sandbox, no grading."""
    script = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
              "for path in sys.argv[1:]:\n"
              "    nb = nbformat.read(path, as_version=4)\n"
              "    NotebookClient(nb, timeout=600, allow_errors=True, resources={'metadata': {'path': "
              "__import__('os').path.dirname(path)}}).execute()\n")
    paths = sorted(str(p) for p in (c.path / "autograde" / "submitted").glob(f"*/{ASSIGNMENT}/*.ipynb"))
    return measure("plain execution (nbclient, no nbgrader, no sandbox)", [sys.executable, "-c", script, *paths],
                   c.path)


def kernel_start(sandboxed: bool, warm: bool, repeats: int) -> float:
    """Median seconds from starting a kernel to its first reply: without the sandbox, or in it, cold or warm."""
    script = f"""
import statistics, sys, time
sys.path.insert(0, {str(ROOT)!r})
import nbformat
from nbformat.v4 import new_code_cell, new_notebook
from autograde.steps import ExecuteInSandbox
from traitlets.config import Config
config = Config()
config.Sandbox.enabled = {sandboxed}
config.Sandbox.warm_kernels = {warm}
times = []
for _ in range({repeats} + 1):  # the first also starts the warm kernel server: not counted
    step = ExecuteInSandbox(config=config)
    nb = new_notebook(cells=[new_code_cell("1")])
    started = time.perf_counter()
    step.preprocess(nb, {{"nbgrader": {{"student": "x"}}, "metadata": {{"path": "."}}}})
    times.append(time.perf_counter() - started)
print(statistics.median(times[1:]))
"""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", script], cwd=tmp, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def whole_sheet(n: int, w: int, folder: Path, old: Path | None) -> None:
    """CPU seconds per whole-sheet submission in a batch of n (fixed start-up included), here and in ``old``."""
    c = course(folder / "sheet", honest(n), limits=False, whole_sheet=True)
    row = measure(f"whole sheet, batch of {n}, {w} workers", [sys.executable, "-m", "autograde.batch", ASSIGNMENT,
                                                             "--force", "--workers", str(w)], c.path)
    table = c.path / "autograde" / "grades.csv"
    graded = sum(1 for r in csv.DictReader(table.open()) if r["total"]) if table.exists() else 0
    if graded != n:  # a figure for a batch that failed would be a lie
        sys.exit(f"{row['name']}: only {graded} of {n} submissions were graded; no figure")
    print(f"{row['name']}: {row['cpu'] / n:.2f} CPU s per submission ({row['wall']:.1f} s wall in all)", flush=True)
    if old:
        # this file's code with the other checkout's packages and .venv
        code = (f"import sys; sys.argv = ['bench', '--sheet', '--submissions', '{n}', '--workers', '{w}', "
                f"'--folder', {str(folder / 'old')!r}]; __file__ = {str(old / 'tests' / 'bench_grading.py')!r}; "
                f"exec(compile(open({str(Path(__file__).resolve())!r}).read(), 'bench_grading', 'exec'))")
        done = subprocess.run([str(old / ".venv" / "bin" / "python"), "-c", code], cwd=old, capture_output=True,
                              text=True)
        print("old: " + (done.stdout.strip() or done.stderr[-2000:]))
        cpu = float(done.stdout.split(": ")[1].split()[0]) if done.returncode == 0 else float("nan")
        print(f"new/old CPU per submission: {row['cpu'] / n / cpu:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pathological", type=float, default=0.1, help="share of the mixed class")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "course-bench")
    parser.add_argument("--sheet", action="store_true",
                        help="only this: a batch of SUBMISSIONS whole-sheet reference submissions, CPU s per submission")
    parser.add_argument("--old", type=Path, help="with --sheet: also another checkout (with its .venv), in this run")
    args = parser.parse_args()
    n, w = args.submissions, args.workers
    batch = [sys.executable, "-m", "autograde.batch", ASSIGNMENT, "--force"]
    if args.sheet:
        return whole_sheet(n, w, args.folder, args.old)
    stock = [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force", "--log-level=ERROR"]
    rows = []

    c = course(args.folder / "honest", honest(n), limits=False)
    off = args.folder / "honest-stock"
    shutil.rmtree(off, ignore_errors=True)
    shutil.copytree(c.path, off)
    with open(off / "nbgrader_config.py", "a") as f:
        f.write("\nc.Sandbox.enabled = False\n")
    rows.append(measure("stock nbgrader autograde, serial (no sandbox)", stock, off))
    rows.append(measure("batch, 1 worker", [*batch, "--workers", "1"], c.path))
    rows.append(measure(f"batch, {w} workers", [*batch, "--workers", str(w)], c.path))
    rows.append(plain_execution(c))

    m = course(args.folder / "mixed", mixed(n, args.pathological), limits=True)
    rows.append(measure("mixed class: batch, 1 worker", [*batch, "--workers", "1"], m.path))
    rows.append(measure(f"mixed class: batch, {w} workers", [*batch, "--workers", str(w)], m.path))

    one = course(args.folder / "one", honest(1), limits=True)
    rows.append(measure("one honest notebook (batch)", [*batch, "--workers", "1"], one.path))
    r = course(args.folder / "runaway", {"runaway": lambda s, rel, src, o: write_case(
        cases(CELL_SECONDS)["hostile_sleep_in_c"], rel, src, o, {})}, limits=True)
    rows.append(measure("one runaway notebook (batch)", [*batch, "--workers", "1"], r.path))

    print(f"\n{n} submissions of {NOTEBOOK}, {w} workers, {os.cpu_count()} cores; pathological share "
          f"{args.pathological:.0%} with Execute.timeout = {CELL_SECONDS} s, Sandbox.notebook_seconds = "
          f"{NOTEBOOK_SECONDS} s\n")
    print(f"{'':55} {'wall s':>8} {'per sub':>8} {'CPU s':>8}")
    for row in rows:
        per = row["wall"] / (1 if row["name"].startswith("one ") else n)
        print(f"{row['name']:55} {row['wall']:8.1f} {per:8.2f} {row['cpu']:8.1f}")
    stock_wall, serial, parallel, plain = (rows[i]["wall"] for i in range(4))
    print(f"\nbatch with {w} workers / stock serial:   {parallel / stock_wall:.2f}")
    print(f"batch serial / stock serial:             {serial / stock_wall:.2f}")
    print(f"overhead over plain execution, serial:  {(serial - plain) / n:.2f} s per submission")
    bare, cold, warm = (kernel_start(sandboxed, warm, 9) for sandboxed, warm in ((False, False), (True, False),
                                                                                  (True, True)))
    print(f"kernel start to first reply (median of 9, after one): {bare:.2f} s without the sandbox,\n"
          f"  {cold:.2f} s cold in it ({cold - bare:+.2f} s), {warm:.2f} s warm in it ({warm - bare:+.2f} s)")
    print(f"one runaway notebook: {rows[-1]['wall'] - rows[-2]['wall']:+.1f} s over an honest one, for a "
          f"{NOTEBOOK_SECONDS} s budget ({rows[-1]['wall']:.1f} s batch wall time)")


if __name__ == "__main__":
    main()
