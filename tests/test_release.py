"""The committed releases (English and German) match their sources, run as handed out, and what students get leaks nothing."""
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograde.course import ASSIGNMENT, ROOT
from autograde.language import FOLDERS
from autograde.scratch_course import Course

SOURCES = [ROOT / sources / ASSIGNMENT for sources, _release in FOLDERS.values()]
RELEASES = {language: ROOT / release / ASSIGNMENT for language, (_sources, release) in FOLDERS.items()}


@pytest.fixture(scope="module", params=sorted(FOLDERS))
def fresh_release(request, tmp_path_factory):
    return request.param, Course(tmp_path_factory.mktemp("course"), request.param).release()


def test_committed_release_is_what_generate_assignment_makes(fresh_release):
    language, fresh = fresh_release
    committed = RELEASES[language]
    names = sorted(p.name for p in committed.iterdir())
    where = committed.relative_to(ROOT)
    assert names == sorted(p.name for p in fresh.iterdir()), f"run `make release` and commit {where}/"
    for name in names:
        assert (committed / name).read_bytes() == (fresh / name).read_bytes(), \
            f"{where}/{name} is out of date: run `make release` and commit it"


@pytest.mark.parametrize("sources", SOURCES, ids=lambda path: path.parent.name)
def test_solutions_folder_holds_only_notebooks(sources):
    # generate_assignment copies every other file into the release, and autograde next to submissions
    others = [p for p in sources.rglob("*") if p.is_file() and p.suffix != ".ipynb"]
    assert others == []


def _texts(folder: Path):
    """(name, text) of every file in the bundle, with the wheel opened too."""
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as whl:
                for name in whl.namelist():
                    yield f"{path.name}/{name}", whl.read(name).decode("utf-8", "replace")
        elif path.is_file():
            yield str(path.relative_to(folder)), path.read_text("utf-8", "replace")


SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def _solution_texts():
    """What the release replaces: code between the solution markers, and whole markdown answers."""
    for path in (path for sources in SOURCES for path in sources.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                yield from (SOLUTION_REGION.findall(cell.source) if cell.cell_type == "code" else [cell.source])


def _secret_lines():
    """Lines that only the instructor side has: solution code and text, the keys, hidden test code."""
    lines = set()
    for source in _solution_texts():
        lines |= {line.strip() for line in source.splitlines() if len(line.strip()) > 15}
    for key_file in (ROOT / "autograde" / "keys").glob("*.py"):
        lines |= {line.strip() for line in key_file.read_text().splitlines()
                  if len(line.strip()) > 25 and not line.strip().startswith(("from ", "import ", '"""', "#"))}
    return lines


def _make_student_bundle(cwd: Path) -> Path:
    """Run the command line of `make student-bundle` as make prints it (a relative path), in ``cwd``."""
    dry_run = subprocess.run(["make", "--no-print-directory", "-n", "student-bundle"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    command = next(line for line in dry_run.splitlines() if "autograde.bundle" in line)
    assert not shlex.split(command)[-1].startswith("/"), "the Makefile's bundle path is relative"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


def test_student_bundle_holds_no_answer_hidden_test_or_instructor_data(tmp_path):
    archive = _make_student_bundle(tmp_path)
    assert archive.is_relative_to(tmp_path) and archive.is_file()
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(archive).extractall(unpacked)
    texts = dict(_texts(unpacked))
    assert any(".whl/course_lib/" in n for n in texts)
    german, english = ([n.removeprefix(f"{ASSIGNMENT}-{lang}/") for n in texts if n.startswith(f"{ASSIGNMENT}-{lang}/")]
                       for lang in ("de", "en"))
    assert german and german == english and all(n.endswith(".ipynb") for n in german)   # one folder per language
    assert not [n for n in texts if "autograde" in n or "secret" in n or "solutions" in n]
    in_wheel = {name.split(".whl/", 1)[-1] for name in texts}
    assert {f"course_lib/locale/{language}/LC_MESSAGES/course_lib.mo" for language in ("de", "en")} <= in_wheel
    markers = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|hand_in\(")
    secret_lines = _secret_lines()
    assert len(secret_lines) > 10
    for name, text in texts.items():
        if name.endswith(".ipynb"):
            nb = nbformat.reads(text, as_version=4)
            text = "\n".join(cell.source for cell in nb.cells)
            assert not markers.search(text), f"{name} holds a solution or hidden-test marker"
        leaked = [line for line in secret_lines if line in text]
        assert not leaked, f"{name} holds instructor lines: {leaked[:3]}"
    install = texts["INSTALL.txt"]
    assert f"jupyter lab {ASSIGNMENT}-de/" in install and f"{ASSIGNMENT}-en/" in install
    assert "python3 -m venv" in install and "py -m venv" in install and "pip install" in install
    metadata = next(text for name, text in texts.items() if name.endswith(".dist-info/METADATA"))
    assert "self-checks for exercise sheet 3" in metadata and "README.md" in texts
    assert not re.search(r"For TAs|secret|autograde|grader_request", metadata), "the wheel carries the staff README"


# How a graded part's answer would read in a cell, from the reference solution
# (shared/reference/sheet03-reference.md), as code or as LaTeX. The task statements give the
# target forms of c3 (1 - tanh^2 u, s_i(delta_ij - s_j)), so those are not listed.
ANSWER_FORMULAS = {
    "a1": [r"h\(i\s*-\s*1\)\s*\*\s*dsigma", r"dsigma\(w\[k\]\s*\*\s*h\(k\s*-\s*1\)\)",
           r"\\prod_\{k\s*=\s*i", r"h_\{i\s*-\s*1\}\s*\\,?\s*\\sigma'"],
    "a2": [r"Rational\(1,\s*4\)", r"\\t?frac\s*\{?1\}?\s*\{?4\}?", r"(?<![\d.])1\s*/\s*4(?![\d.])", r"4\^\{?-",
           r"n\s*-\s*i\s*\+\s*1", r"Abs\(x\)"],
    "b1": [r"d=\[2\s*\*\s*x1\]", r"d=\[2\s*\*\s*v\d\]"],
    "b3": [r"-\s*400\s*\*?\s*x_?1", r"200\s*\*?\s*\(?\s*x_?2\s*-\s*x_?1", r"200\s*\*\s*v2", r"-215\.6"],
    "c2": [r"np\.diag\(z3\)\s*-\s*np\.outer", r"diag\(z\S*\)\s*-\s*z", r"1(\.0)?\s*-\s*z[123]\s*\*\*\s*2",
           r"1\s*-\s*z\^\{\(\d\)\}\s*\\odot", r"-\s*1(\.0)?\s*/\s*z", r"-\\frac\s*\{?1\}?\s*\{?z",
           r"z\S*\s*-\s*e_y", r"W3\.T\s*@"],
    "c3": [r"\(e\(u\)\s*\+\s*e\(-u\)\)\s*\*\*\s*2\s*-", r"\(e\^u\s*\+\s*e\^\{-u\}\)\^2\s*-",
           r"delta\s*\*\s*e\(o_i\)\s*\*\s*S", r"\\delta_\{ij\}\s*e\^\{o_i\}\s*S"],
    "c_bonus": [r"δ_?\{?ik", r"\\delta_\{?ik", r"delta_ik", r"\bi\s*==?\s*k\b", r"I\s*(⊗|\\otimes)\s*x",
                r"outer", r"δ1?\s*xᵀ", r"\\delta\^\{\(1\)\}\s*x\^", r"\(n1,\s*n1,\s*n0\)",
                r"n_1\s*\\times\s*n_1\s*\\times\s*n_0", r"n1\s*\*\s*n1\s*\*\s*n0",
                r"411\s*041\s*792|411041792", r"392\s*MiB", r"einsum\(.ik,\s*l"],
}


def _release_cells():
    for release in RELEASES.values():
        for path in sorted(release.glob("*.ipynb")):
            for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
                yield f"{path.relative_to(ROOT)} cell {index}", cell.source


def test_no_release_cell_states_an_answer_formula():
    found = [(where, task, pattern) for where, source in _release_cells()
             for task, patterns in ANSWER_FORMULAS.items() for pattern in patterns
             if re.search(pattern, source)]
    assert found == [], f"release cells state answers: {found[:5]}"


def test_the_answer_formulas_find_every_graded_answer_in_the_solutions():
    # the leak test above can fail: each task's patterns find that task's solution
    solutions = {}
    for path in (ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
                solutions[grade_id.removesuffix("_answer").replace("bonus", "c_bonus")] = cell.source
    for task, patterns in ANSWER_FORMULAS.items():
        assert any(re.search(p, solutions[task]) for p in patterns), task
    reference = Path("/work/shared/reference/sheet03-reference.md")
    if reference.exists():  # the LaTeX forms, where the reference solution is at hand
        text = reference.read_text()
        for pattern in (r"\\delta_\{?ik", r"I\s*(⊗|\\otimes)\s*x", r"\\delta\^\{\(1\)\}\s*x\^", r"4\^\{?-",
                        r"\\prod_\{k\s*=\s*i", r"1\s*-\s*z\^\{\(\d\)\}\s*\\odot", r"z\S*\s*-\s*e_y"):
            assert re.search(pattern, text), pattern


def _run_blank(path: Path, tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb  # execute() raises CellExecutionError at the first cell that fails


def _checked_task(source: str) -> str | None:
    """The task of a self-check cell `check("a1", …)`."""
    found = re.match(r'check\("(\w+)"', source)
    return found[1] if found else None


@pytest.mark.parametrize("language, name", [(language, p.name) for language, release in RELEASES.items()
                                            for p in sorted(release.glob("*.ipynb"))])
def test_blank_release_notebook_runs_top_to_bottom_and_every_self_check_says_not_answered(language, name, tmp_path):
    nb = _run_blank(RELEASES[language] / name, tmp_path)
    graded = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells
              if cell.metadata.get("nbgrader", {}).get("grade")}
    checks = [cell for cell in nb.cells if cell.cell_type == "code" and _checked_task(cell.source) in graded]
    assert checks or not graded
    for cell in checks:  # the self-checks of graded parts (a practice notebook's may word it its own way)
        shown = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        assert shown.strip() and "Traceback" not in shown and "Error" not in shown, shown
        if language == "en":  # the German wording is the message catalogue's
            assert re.search(r"Self-check \w+: not answered yet", shown), (cell.source, shown)
    if name.startswith("c_") and language == "en":  # the loss graph is empty: the drawing says so, not an empty figure
        printed = "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs)
        assert "(nothing to draw yet: the graph has no edges)" in printed
