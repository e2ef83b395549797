"""`make student-bundle`: what a student gets, as a folder and a zip.

    sheet03-de/*.ipynb                   the German release notebooks (exercises-de/sheet03), the course's
    sheet03-en/*.ipynb                   the English release notebooks (exercises/sheet03), the same names
    course_lib-<version>-py3-none-any.whl the self-check library (no keys, no solutions)
    INSTALL.txt                          how to install it into a virtual environment
    README.md                            the students' README (also the wheel's description)
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .course import ASSIGNMENT, ROOT
from .language import FOLDERS

INSTALL = """\
Sheet 3 · Neural Networks and Backpropagation: the notebooks and the self-check library.
You need Python 3.11 or newer. Open a terminal in this folder, then:

Linux and macOS
    python3 -m venv .venv
    . .venv/bin/activate
    pip install '{wheel}[lab]'
    jupyter lab {assignment}-de/

Windows (PowerShell or cmd)
    py -m venv .venv
    .venv\\Scripts\\activate
    pip install "{wheel}[lab]"
    jupyter lab {assignment}-de

{assignment}-de/ holds the notebooks in German, {assignment}-en/ the same notebooks in English
(write `{assignment}-en` instead in the last line). Work in one of them and hand in its notebooks.
Die Notebooks auf Deutsch liegen in {assignment}-de/, auf Englisch in {assignment}-en/: Arbeiten Sie
in einem der beiden Ordner und geben Sie dessen Notebooks ab.

Next time, activate the environment again (the second line) and start JupyterLab (the last).

[lab] adds JupyterLab: about 100 packages, 490 MB. Without it the library alone is 15 packages,
about 280 MB (NumPy, SymPy, matplotlib, networkx): `pip install {wheel}` is enough if you open the
notebooks with a Jupyter you already have (VS Code, JupyterLab) and choose this .venv as the kernel.
"""


def build(out: Path) -> Path:
    """Write the bundle folder ``out`` and ``out``.zip; return the zip's path."""
    out = out.resolve()  # pip wheel runs in a temporary folder: a relative -w would land there
    shutil.rmtree(out, ignore_errors=True)
    for language, (_sources, release) in FOLDERS.items():
        folder = out / f"{ASSIGNMENT}-{language}"
        folder.mkdir(parents=True)
        for nb in sorted((ROOT / release / ASSIGNMENT).glob("*.ipynb")):
            shutil.copy(nb, folder / nb.name)
    with tempfile.TemporaryDirectory() as tmp:  # build outside the tree: no build/ or egg-info left behind
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                       check=True, cwd=tmp)
    wheel = next(out.glob("course_lib-*.whl")).name
    (out / "INSTALL.txt").write_text(INSTALL.format(wheel=wheel, assignment=ASSIGNMENT))
    shutil.copy(ROOT / "STUDENT_README.md", out / "README.md")
    return Path(shutil.make_archive(str(out), "zip", root_dir=out))


if __name__ == "__main__":
    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "dist" / "student-bundle")))
