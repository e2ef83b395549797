"""Before nbgrader reads a submission: make its folder hold exactly the assignment's notebooks, each readable.

Stock nbgrader stops on a notebook it cannot parse and skips one with another name,
so the student would lose points their answers earn, or get no feedback at all.
Here, in the job's own copy of the submission:

* a notebook that is not valid UTF-8 is read with the undecodable bytes replaced;
* a notebook that still cannot be read (broken JSON, not a notebook, too many cells)
  is replaced by the release, so it is graded as handed in blank, with the reason;
* a notebook under another name is graded under its own name when its graded cells
  show which notebook of the assignment it is (a student's "a_… (1).ipynb");
* a missing notebook is replaced by the release; other notebooks are set aside;
* stored outputs are dropped (nbgrader clears them anyway), so a large output
  (within the size limit) costs one read here and nothing after.

Every such change becomes a grading note (autograde/notes.py) in the notebook it
concerns, so the feedback says what happened. The folder holds only the notebooks
the coordinator's scan accepted (autograde/submission_files.py); what the scan left
out (links, special files, other files, notebooks over the size limit) is noted too,
and a notebook over the cell limit is treated as unreadable.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from ..language import _
from ..notes import MARK, add_note, literal
from ..submission_files import NOTEBOOK_SUFFIX, Refused, SubmissionLimits, check_cells, dropped_notes
from ..validated_once import reads_valid, writes


def parse_notebook(raw: bytes, limits: SubmissionLimits) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook in ``raw`` without outputs, and notes on how it was read. Raises Refused."""
    notes = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        notes.append("the file is not valid UTF-8; the bytes that could not be read were replaced by �")
    check_cells(text, limits)
    try:
        nb = reads_valid(text)  # the file the job's own intake wrote is not validated again (validated_once.py)
    except nbformat.reader.NotJSONError:
        raise Refused("it is not valid JSON") from None
    except Exception as e:  # schema or version errors: there is no notebook to grade either
        raise Refused(str(e).splitlines()[0][:200]) from None
    for cell in nb.cells:
        cell.metadata.pop(MARK, None)  # grading notes are the grader's to write
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb, notes


def unread_note(why: str) -> str:
    return _("this notebook could not be read ({why}); it was graded as handed out").format(why=why)


def _grade_ids(nb) -> set[str]:
    return {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}


def matching_notebook(nb, names, expected: dict[str, set[str]]) -> str | None:
    """The name among ``names`` whose grade ids ``nb`` shares most, or None if it shares none."""
    ids = _grade_ids(nb)
    best = max(names, key=lambda n: len(ids & expected[n]), default=None)
    return best if best is not None and ids & expected[best] else None


def intake(folder: Path, expected: dict[str, set[str]], release: Path, dropped: dict[str, str],
           limits: SubmissionLimits) -> None:
    """Normalise the submission ``folder``; ``expected`` maps each notebook name to its grade ids,
    ``dropped`` says what the scan of the submission left out and why."""
    found, broken, notes = {}, {}, {name: [] for name in expected}
    for path in sorted(folder.glob("*.ipynb")):
        name = path.stem
        try:
            found[name], read_notes = parse_notebook(path.read_bytes(), limits)
            notes.setdefault(name, []).extend(read_notes)
        except Refused as e:
            broken[name] = str(e)
        path.unlink()
    first = sorted(expected)[0]  # where notes about the submission as a whole go
    others = {}
    for name, why in dropped.items():
        stem = name.removesuffix(NOTEBOOK_SUFFIX)
        if name == ".":
            broken.update(dict.fromkeys(expected, why))
        elif name.endswith(NOTEBOOK_SUFFIX) and stem in expected:
            broken[stem] = why
        else:
            others[name] = why
    notes[first] += dropped_notes(others)
    for name in [n for n in broken if n not in expected]:
        notes[first].append(_("{name} could not be read ({why}) and is not part of this assignment").format(
            name=literal(name + NOTEBOOK_SUFFIX), why=broken[name]))
    for name in [n for n in found if n not in expected]:
        missing = [n for n in expected if n not in found and n not in broken]
        best = matching_notebook(found[name], missing, expected)
        nb = found.pop(name)
        if best is not None:
            found[best] = nb
            notes[best] += notes.pop(name, []) + [_("handed in as {name}; graded as `{best}.ipynb`").format(
                name=literal(name + NOTEBOOK_SUFFIX), best=best)]
        else:
            notes.pop(name, None)
            notes[first].append(_("{name} is not part of this assignment and was not graded").format(
                name=literal(name + NOTEBOOK_SUFFIX)))
    for name in expected:
        if name not in found:
            found[name] = nbformat.read(release / f"{name}.ipynb", as_version=4)
            notes[name].append(unread_note(broken[name]) if name in broken
                               else _("this notebook was not handed in; it was graded as handed out"))
        for note in notes[name]:
            add_note(found[name], note)
        (folder / f"{name}.ipynb").write_text(writes(found[name]), encoding="utf-8")  # nbformat.write's bytes
