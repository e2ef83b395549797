"""`make release`: regenerate each language's release from its sources with `nbgrader generate_assignment`.

solutions/sheet03 makes exercises/sheet03 (English), solutions-de/sheet03 makes
exercises-de/sheet03 (German); see language.py. Each runs in a scratch course, so the
gradebook of the term (which refuses a changed assignment once submissions exist) is
not touched; the drift test compares the committed releases with exactly this output.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .course import ASSIGNMENT, ROOT
from .language import FOLDERS
from .scratch_course import Course


def main() -> None:
    for language, (_sources, release) in FOLDERS.items():
        target = ROOT / release / ASSIGNMENT
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Course(Path(tmp), language).release()
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(fresh, target)
        print(f"wrote {', '.join(sorted(p.name for p in target.iterdir()))} to {target.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
