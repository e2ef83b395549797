"""Benchmark: CPU seconds per whole-sheet submission of `nbgrader autograde`, against plain execution, in one run.

    python -m autograde.bench_autograde [N] [--old TREE]

N copies of the reference submission are autograded in a scratch course with the
project's configuration; then every one of the same submitted notebooks is run
with `jupyter nbconvert --to notebook --execute` (with NBGRADER_EXECUTION=autograde, as
nbgrader sets it, so both do the same work). Each command is measured by a cpuacct
cgroup around it: CPU seconds (user + sys) of it and of everything it starts, kernels
included. That is the figure to quote on a shared, loaded machine, where wall time
(printed too) depends on the neighbours. --old TREE runs the same benchmark with that
checkout's own .venv (e.g. `git archive` of main, after `make venv` there) in the same
run and prints the ratios new/old.

    python -m autograde.bench_autograde --demo [--old TREE] [--rounds 3]

measures `make demo` whole, then its autograde step alone (`nbgrader autograde` of the
demo's sample students, run again in the course the demo left), ROUNDS times in each
tree, interleaved, and prints the medians and their ratio, and where the step's CPU went:
the `nbgrader autograde` process itself, the processes it waited for (getrusage's
RUSAGE_CHILDREN: launchers and judges, and whatever of theirs they waited for), and the
rest of the cgroup (processes nobody in that chain reaps, such as warm kernels and their server).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from course_lib.graded_run import EXECUTION_ENV, GRADED

from .course import ASSIGNMENT, ROOT
from .practice import is_practice
from .samples import write_submission
from .scratch_course import Course

sys.path.insert(0, str(ROOT / "tests"))
from bench_grading import measure  # noqa: E402  (the cpuacct cgroup around a command)


def run(copies: int) -> dict:
    """{"autograde": {"wall", "cpu"}, "plain": {...}} per submission, for this checkout."""
    with tempfile.TemporaryDirectory() as tmp:
        course = Course(Path(tmp))
        release = course.release()
        for k in range(copies):
            write_submission("reference", release, course.path / "solutions" / ASSIGNMENT,
                             course.submission_dir(f"student{k:03d}"))
        # autograde leaves the practice notebooks out, so the plain run does too
        notebooks = sorted(nb for nb in (course.path / "autograde" / "submitted").rglob("*.ipynb")
                           if not is_practice(nb))
        graded = measure("autograde", [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"],
                         course.path)
        # NBGRADER_EXECUTION as nbgrader sets it: notebooks that scale a demo down when graded do so here too
        os.environ[EXECUTION_ENV] = GRADED
        try:
            plain = measure("plain", [sys.executable, "-c", PLAIN, str(Path(tmp) / "plain.ipynb"),
                                      *map(str, notebooks)], course.path)
        finally:
            del os.environ[EXECUTION_ENV]
    return {"notebooks": len(notebooks) // copies,
            **{name: {k: r[k] / copies for k in ("wall", "cpu")} for name, r in (("autograde", graded),
                                                                                 ("plain", plain))}}


PLAIN = """
import subprocess, sys
from pathlib import Path
out, *notebooks = sys.argv[1:]
for nb in notebooks:
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output", out,
                    nb], check=True, capture_output=True, cwd=Path(nb).parent)
"""


# `nbgrader ARGS…` that writes, as it exits, the CPU seconds of its own process and of the children it waited for
# (registered first, so it runs after nbgrader's own exit handlers, which end and reap what they started)
BY_PROCESS = """
import atexit, json, resource, runpy, sys
def cpu(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime
def write():
    with open(out, "w") as f:
        json.dump({"self": cpu(resource.RUSAGE_SELF), "waited": cpu(resource.RUSAGE_CHILDREN)}, f)
out, sys.argv = sys.argv[1], ["nbgrader", *sys.argv[2:]]
atexit.register(write)
runpy.run_module("nbgrader", run_name="__main__")
"""


def demo(old: Path | None, rounds: int) -> None:
    """`make demo` (release, samples, autograde, feedback, export) measured whole, then its autograde step alone:
    `nbgrader autograde` of the sample students again, ``rounds`` times, interleaved with --old's."""
    trees = {"new": (sys.executable, ROOT)}
    if old:
        trees["old"] = (str(old / ".venv" / "bin" / "python"), old)
    whole = {name: measure(f"demo-{name}", [python, "-m", "autograde.demo"], tree)["cpu"]
             for name, (python, tree) in trees.items()}
    step = {name: [] for name in trees}  # per run: {"cpu": the cgroup's, "self": nbgrader's own, "waited": …}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(rounds):
            for name, (python, tree) in trees.items():
                out = Path(tmp) / f"{name}-{k}.json"  # (one per run: a run that wrote none fails here, not later)
                argv = [python, "-c", BY_PROCESS, str(out), "autograde", ASSIGNMENT, "--force"]
                cpu = measure(f"autograde-{name}-{k}", argv, tree)["cpu"]
                step[name].append({"cpu": cpu, **json.loads(out.read_text())})
    print(f"CPU s; the autograde step: median of {rounds} runs, interleaved")
    median = {name: {key: statistics.median(run[key] for run in runs) for key in ("cpu", "self", "waited")}
              for name, runs in step.items()}
    for name, runs in step.items():
        listed = " ".join(f"{run['cpu']:.1f}" for run in runs)
        rest = statistics.median(run["cpu"] - run["self"] - run["waited"] for run in runs)
        print(f"{name}: make demo {whole[name]:6.1f}   its autograde {median[name]['cpu']:6.1f} ({listed})")
        print(f"{'':5}its autograde by process: nbgrader's own {median[name]['self']:.1f}, "
              f"what it waited for {median[name]['waited']:.1f}, the rest {rest:.1f}")
    if old:
        print(f"new/old: make demo {whole['new'] / whole['old']:.2f}, "
              f"its autograde {median['new']['cpu'] / median['old']['cpu']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("copies", nargs="?", type=int, default=5)
    ap.add_argument("--old", type=Path, help="another checkout with its own .venv, measured in the same run")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # how --old reads the other run
    ap.add_argument("--demo", action="store_true",
                    help="instead: CPU s of `make demo` (python -m autograde.demo) and of its autograde step, "
                         "here and in --old")
    ap.add_argument("--rounds", type=int, default=3, help="with --demo: runs of the autograde step in each tree")
    args = ap.parse_args()
    if args.demo:
        return demo(args.old, args.rounds)
    new = run(args.copies)
    if args.json:
        return print(json.dumps(new))
    old = None
    if args.old:
        # this file's code, with the other checkout's autograde package, course_lib and .venv
        code = (f"import autograde, sys; sys.argv = ['bench', '{args.copies}', '--json']; "
                f"exec(compile(open({str(Path(__file__).resolve())!r}).read(), 'bench_autograde', 'exec'), "
                "{'__name__': '__main__', '__package__': 'autograde'})")
        done = subprocess.run([str(args.old / ".venv" / "bin" / "python"), "-c", code], cwd=args.old,
                              capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"the run on {args.old} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        old = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{args.copies} submissions of {new['notebooks']} notebook(s) each; per submission, CPU s of the command "
          f"and all it starts (cpuacct), wall s in brackets")
    for name, label in (("autograde", "nbgrader autograde (project config)"), ("plain", "jupyter nbconvert --execute")):
        line = f"{label:38} {new[name]['cpu']:6.2f} CPU s ({new[name]['wall']:6.2f} s)"
        if old:
            line += f"   old {old[name]['cpu']:6.2f} CPU s ({old[name]['wall']:6.2f} s)   new/old {new[name]['cpu'] / old[name]['cpu']:.2f}"
        print(line)
    print(f"autograde / plain, CPU: {new['autograde']['cpu'] / new['plain']['cpu']:.2f}")


if __name__ == "__main__":
    main()
