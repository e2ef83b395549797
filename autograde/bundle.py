"""`make student-bundle`: what a student gets, as a folder and a zip.

    sheet03/*.ipynb                      the release notebooks (exercises/sheet03)
    course_lib-<version>-py3-none-any.whl the self-check library (no keys, no solutions)
    INSTALL.txt                          the one-line install note
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "sheet03"


def build(out: Path) -> Path:
    """Write the bundle folder ``out`` and ``out``.zip; return the zip's path."""
    out = out.resolve()  # pip wheel runs in a temporary folder: a relative -w would land there
    shutil.rmtree(out, ignore_errors=True)
    (out / ASSIGNMENT).mkdir(parents=True)
    for nb in sorted((ROOT / "exercises" / ASSIGNMENT).glob("*.ipynb")):
        shutil.copy(nb, out / ASSIGNMENT / nb.name)
    with tempfile.TemporaryDirectory() as tmp:  # build outside the tree: no build/ or egg-info left behind
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                       check=True, cwd=tmp)
    wheel = next(out.glob("course_lib-*.whl")).name
    (out / "INSTALL.txt").write_text(
        f"pip install '{wheel}[lab]' && jupyter lab {ASSIGNMENT}/\n")
    return Path(shutil.make_archive(str(out), "zip", root_dir=out))


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "student-bundle")))
