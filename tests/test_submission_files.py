"""autograde/submission_files.py: a scan of a submission folder reads its notebooks and follows nothing."""
import json
import os
import socket
import stat

import pytest
from nbformat.v4 import new_code_cell, new_notebook, writes

from autograde.batch.intake import parse_notebook
from autograde.course import ASSIGNMENT
from autograde.submission_files import LEFT_OUT, Refused, SubmissionLimits, dropped_notes, scan

NOTEBOOK = "a_vanishing_gradient.ipynb"


@pytest.fixture
def course(tmp_path):
    """course/secret.key and course/submitted/mallory/sheet03/ with one honest notebook."""
    (tmp_path / "secret.key").write_text("the grader's secret")
    folder = tmp_path / "submitted" / "mallory" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text(writes(new_notebook()))
    return tmp_path, folder


def limits(**changes):
    return SubmissionLimits(**changes)


def test_an_honest_folder_gives_its_notebook_and_nothing_else(course):
    _, folder = course
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".DS_Store").write_bytes(b"\0")
    found = scan(folder, limits())
    assert list(found.files) == [NOTEBOOK] and found.dropped == {}


@pytest.mark.parametrize("make, why", [
    (lambda f, root: (f / "notes.txt").symlink_to("../../../secret.key"), "symbolic link"),
    (lambda f, root: (f / "gone.txt").symlink_to("../../../nowhere"), "symbolic link"),
    (lambda f, root: os.link(root / "secret.key", f / "notes.txt"), "hard link"),
    (lambda f, root: os.mkfifo(f / "pipe"), "named pipe"),
    (lambda f, root: socket.socket(socket.AF_UNIX).bind(str(f / "sock")), "socket"),
    (lambda f, root: os.mknod(f / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5)), "device file"),
    (lambda f, root: (f / "data").symlink_to("../../.."), "symbolic link"),
    (lambda f, root: (f / ".hidden").symlink_to("../../../secret.key"), "symbolic link"),
    (lambda f, root: (f / "extra.py").write_text("print(1)"), LEFT_OUT),
    (lambda f, root: (f / "data").mkdir(), LEFT_OUT),
])
def test_links_special_and_other_files_are_left_out_with_the_reason(course, make, why):
    root, folder = course
    make(folder, root)
    found = scan(folder, limits())
    assert list(found.files) == [NOTEBOOK]
    [(name, reason)] = found.dropped.items()
    assert why in reason


@pytest.mark.parametrize("make, why", [
    (lambda f, root: (f / NOTEBOOK).symlink_to("../../../secret.key"), "symbolic link"),
    (lambda f, root: os.link(root / "secret.key", f / NOTEBOOK), "hard link"),
    (lambda f, root: os.mkfifo(f / NOTEBOOK), "named pipe"),
])
def test_a_notebook_that_is_not_a_file_of_its_own_is_not_read(course, make, why):
    root, folder = course
    (folder / NOTEBOOK).unlink()
    make(folder, root)
    found = scan(folder, limits())
    assert found.files == {} and why in found.dropped[NOTEBOOK]


def test_a_linked_submission_or_student_folder_gives_nothing(course, tmp_path):
    root, folder = course
    for linked in (root / "submitted" / "eve" / ASSIGNMENT, root / "submitted" / "trudy"):
        linked.parent.mkdir(parents=True, exist_ok=True)
        linked.symlink_to(folder if linked.name == ASSIGNMENT else folder.parent)
        found = scan(linked if linked.name == ASSIGNMENT else linked / ASSIGNMENT, limits())
        assert found.files == {} and "symbolic link" in found.dropped["."]


def test_a_notebook_over_the_size_limit_is_not_read(course):
    _, folder = course
    with open(folder / NOTEBOOK, "r+b") as f:
        f.truncate(25 * 2**20)  # sparse: the size alone decides
    found = scan(folder, limits())
    assert found.files == {} and "25.0 MiB, more than the 20.0 MiB" in found.dropped[NOTEBOOK]
    assert list(scan(folder, limits(notebook_bytes=30 * 2**20)).files) == [NOTEBOOK]


def test_a_notebook_over_the_cell_limit_is_refused_before_nbformat_reads_it():
    cell = {"cell_type": "code", "source": "", "metadata": {}, "outputs": [], "execution_count": None}
    nb = {**new_notebook(), "cells": [cell] * 50_000}
    with pytest.raises(Refused, match="50,000 cells, more than the 2,000"):
        parse_notebook(json.dumps(nb).encode(), limits())
    parse_notebook(writes(new_notebook(cells=[new_code_cell("") for _ in range(3)])).encode(), limits(cells=3))


def test_a_submitted_notebook_is_validated_once_and_refused_if_invalid(monkeypatch):
    import nbformat
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    valid, invalid = writes(nb), writes(nb).replace('"execution_count": null', '"execution_count": "7"')
    calls, validate = [], nbformat.validate
    monkeypatch.setattr(nbformat, "validate", lambda nb, *a, **k: (calls.append(nb), validate(nb, *a, **k))[1])
    parse_notebook(valid.encode(), limits())
    assert len(calls) == 1
    with pytest.raises(Refused, match="'7'"):
        parse_notebook(invalid.encode(), limits())


def test_notes_name_at_most_ten_files_and_quote_each_name():
    notes = dropped_notes({f"f{i}`<b>": LEFT_OUT for i in range(25)})
    assert len(notes) == 11 and notes[-1] == "15 more files were left out"
    assert notes[0] == f"`f0'<b>` was left out: {LEFT_OUT}"


def test_a_timestamp_is_read_only_from_a_small_file_of_its_own(course):
    root, folder = course
    from autograde.submission_files import read_timestamp
    assert read_timestamp(folder) is None
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00 UTC")
    assert read_timestamp(folder).year == 2026 and "timestamp.txt" in scan(folder, limits()).files
    (folder / "timestamp.txt").write_text("not a date")
    assert read_timestamp(folder) is None
    (folder / "timestamp.txt").unlink()
    os.mkfifo(folder / "timestamp.txt")
    assert read_timestamp(folder) is None and "named pipe" in scan(folder, limits()).dropped["timestamp.txt"]


def test_a_file_name_that_is_not_utf8_is_noted_readably(course):
    _, folder = course
    os.symlink("x", os.path.join(os.fsencode(folder), b"caf\xe9`.txt"))
    found = scan(folder, limits())
    [note] = dropped_notes(found.dropped)
    assert note.encode("utf-8") and note.startswith("`caf?'.txt` was left out: it is a symbolic link")


def test_a_folder_of_many_notebooks_costs_at_most_ten_reads_the_assignments_first(course):
    _, folder = course
    for i in range(30):
        (folder / f"0{i:02d}.ipynb").write_text("{}")
    found = scan(folder, limits(), wanted={NOTEBOOK})
    assert NOTEBOOK in found.files and len(found.files) == 10
    assert sum("at most 10 notebooks" in why for why in found.dropped.values()) == 21
