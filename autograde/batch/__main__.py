"""`python -m autograde.batch ASSIGNMENT [--workers N] [--force] [--scheduler ADDRESS]`, run from the course root."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .run import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograde.batch",
        description="Autograde every submission of an assignment (sandboxed, in parallel), then write the "
                    "feedback and grades.csv. Submissions graded before are skipped; run again to resume.")
    parser.add_argument("assignment", help="e.g. sheet03")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="jobs at once (default: the cores)")
    parser.add_argument("--force", action="store_true", help="grade every submission again")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the jobs on this Dask cluster (tls://host:8786) instead of this machine")
    args = parser.parse_args(argv)
    try:
        failed = run(Path.cwd(), args.assignment, args.workers, args.force, args.scheduler)
    except KeyboardInterrupt:
        print("\ninterrupted: every grade written so far is kept; run the same command again to resume",
              file=sys.stderr)
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
