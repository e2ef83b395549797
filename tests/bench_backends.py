"""Benchmark of the sandbox's backends on this host (README, "Where it runs"): run it as root, do not import it.

    .venv/bin/python tests/bench_backends.py --submissions 20

For each backend that runs here, in one run: kernel start to first reply (median of 9,
after one) and `python -m autograde.batch` on the same honest task-(a) submissions with one
worker (wall and CPU seconds per submission, kernels included; bench_grading.measure):

* root + cgroup v1, warm and cold kernels (what grading used before there were backends);
* root + cgroup v2 on this machine's unified hierarchy (no memory or pids there, so
  per-process limits), and root with no cgroup at all, warm kernels;
* an unprivileged user (created for the run, as in test_rootless.py): user namespaces,
  per-process limits, cold kernels.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grading import course, honest, measure  # noqa: E402
from test_rootless import user_command  # noqa: E402

from autograde.course import ASSIGNMENT  # noqa: E402

BACKENDS = [("root, cgroup v1, warm", "v1", True, False), ("root, cgroup v1, cold", "v1", False, False),
            ("root, cgroup v2 (no controllers), warm", "v2", True, False),
            ("root, no cgroup, warm", "none", True, False), ("user, no cgroup, cold", "auto", False, True)]
KERNEL_START = """
import statistics, sys, tempfile, time
sys.path.insert(0, {root!r})
from nbformat.v4 import new_code_cell, new_notebook
from autograde.steps import ExecuteInSandbox
from traitlets.config import Config
config = Config()
config.Sandbox.cgroups, config.Sandbox.warm_kernels = {kind!r}, {warm}
times = []
for _ in range(10):  # the first also starts the warm kernel server: not counted
    nb = new_notebook(cells=[new_code_cell("1")])
    started = time.perf_counter()
    ExecuteInSandbox(config=config).preprocess(nb, {{"nbgrader": {{"student": "x"}}, "metadata": {{"path": tempfile.mkdtemp()}}}})
    times.append(time.perf_counter() - started)
print(statistics.median(times[1:]))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.mkdtemp(prefix="h9-bench-")))
    args = parser.parse_args()
    user = f"h9bench{os.getpid()}"
    home = args.folder / "home"
    subprocess.run(["useradd", "--no-user-group", "--gid", "nogroup", "--home-dir", str(home), "--create-home",
                    user], check=True)
    os.chmod(args.folder, 0o755)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home)}
    base = course(args.folder / "base", honest(args.submissions), limits=False)
    rows = []
    try:
        for name, kind, warm, rootless in BACKENDS:
            folder = args.folder / name.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
            shutil.copytree(base.path, folder)
            with open(folder / "nbgrader_config.py", "a") as f:
                f.write(f"\nc.Sandbox.cgroups = {kind!r}\nc.Sandbox.warm_kernels = {warm}\n")
            start = [sys.executable, "-c", KERNEL_START.format(root=str(folder), kind=kind, warm=warm)]
            batch = [sys.executable, "-m", "autograde.batch", ASSIGNMENT, "--force", "--workers", "1"]
            if rootless:
                subprocess.run(["chown", "-R", f"{user}:nogroup", str(folder)], check=True)
                start, batch = (user_command(user, argv, env, args.folder / "runtime") for argv in (start, batch))
            started = subprocess.run(start, cwd=folder, capture_output=True, text=True, check=True)
            graded = measure(name.replace(" ", "-").replace(",", ""), batch, folder)
            rows.append((name, float(started.stdout.split()[-1]), graded))
    finally:
        subprocess.run(["userdel", user])
    print(f"\n{args.submissions} honest submissions of the task-(a) notebook, batch with 1 worker, "
          f"{os.cpu_count()} cores\n")
    print(f"{'backend':42} {'kernel start s':>14} {'wall s/sub':>10} {'CPU s/sub':>10}")
    for name, start, graded in rows:
        print(f"{name:42} {start:14.2f} {graded['wall'] / args.submissions:10.2f} "
              f"{graded['cpu'] / args.submissions:10.2f}")
    shutil.rmtree(args.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
