"""The committed release matches the sources, and what students get leaks nothing."""
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograde import bundle
from course import ASSIGNMENT, ROOT, Course


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    return Course(tmp_path_factory.mktemp("course")).release()


def test_committed_release_is_what_generate_assignment_makes(fresh_release):
    committed = ROOT / "exercises" / ASSIGNMENT
    names = sorted(p.name for p in committed.iterdir())
    assert names == sorted(p.name for p in fresh_release.iterdir()), "run `make release` and commit exercises/"
    for name in names:
        assert (committed / name).read_bytes() == (fresh_release / name).read_bytes(), \
            f"exercises/{ASSIGNMENT}/{name} is out of date: run `make release` and commit it"


def test_solutions_folder_holds_only_notebooks():
    # generate_assignment copies every other file into the release, and autograde next to submissions
    others = [p for p in (ROOT / "solutions" / ASSIGNMENT).rglob("*") if p.is_file() and p.suffix != ".ipynb"]
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
    for path in (ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb"):
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


def test_student_bundle_holds_no_answer_hidden_test_or_instructor_data(tmp_path):
    archive = bundle.build(tmp_path / "bundle")
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(archive).extractall(unpacked)
    texts = dict(_texts(unpacked))
    assert any(name.endswith(".ipynb") for name in texts) and any(".whl/course_lib/" in n for n in texts)
    assert not [n for n in texts if "autograde" in n or "secret" in n or "solutions" in n]
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
    assert install.count("\n") == 1 and "pip install" in install
