"""`make release`: regenerate exercises/sheet03 from solutions/sheet03 with `nbgrader generate_assignment`.

It runs in a scratch course, so the gradebook of the term (which refuses a changed
assignment once submissions exist) is not touched; the drift test compares the
committed release with exactly this output.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .course import ASSIGNMENT, ROOT
from .scratch_course import Course


def main() -> None:
    target = ROOT / "exercises" / ASSIGNMENT
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Course(Path(tmp)).release()
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(fresh, target)
    print(f"wrote {', '.join(sorted(p.name for p in target.iterdir()))} to {target.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
