"""What a submission folder may bring into grading: its notebooks, each a regular file of its own. Nothing else.

A submission arrives from students (a zip from the course platform carries symbolic
links), and grading runs as root: whatever it follows or copies, it reads with the
grader's rights. So every path reads a submission folder through ``scan``, which
follows nothing:

* the submission folder and the student's folder must be folders, not links;
* a notebook (``*.ipynb`` at the top of the folder) is read only if it is a regular
  file with no other name (st_nlink = 1: a hard link may be the gradebook, a key or
  another student's notebook under a second name) and within the size limit; it is
  opened with O_NOFOLLOW and checked again on the open file, so a link swapped in
  meanwhile is refused too;
* symbolic links, hard links, FIFOs, sockets and device files are never opened;
* ``timestamp.txt`` (when nbgrader's collect took the submission) is read under the
  same rules, at most 1 KiB, and a malformed one is ignored, not fatal;
* every other file and folder is left out: grading uses only the notebooks, so
  nothing else reaches the kernel, the autograded copy or the feedback.

What was left out, and why, is returned so that a grading note can say it. Hidden
regular files and folders (``.DS_Store``, ``.ipynb_checkpoints``) go without a note.

The limits (``c.SubmissionLimits`` in nbgrader_config.py) bound what one notebook
can cost the grader before any kernel budget applies: a notebook over them is not
read, not executed, and earns nothing, with a note.
"""
from __future__ import annotations

import datetime
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.utils import parse_utc
from traitlets import Integer
from traitlets.config import Configurable

from .language import N_, _
from .notes import literal

NOTEBOOK_SUFFIX = ".ipynb"
TIMESTAMP, TIMESTAMP_BYTES = "timestamp.txt", 1024
LEFT_OUT = N_("grading uses only the assignment's notebooks")
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class SubmissionLimits(Configurable):
    notebook_bytes = Integer(20 * 2**20, help="Largest notebook file that is read and graded.").tag(config=True)
    cells = Integer(2000, help="Most cells a notebook may have to be graded.").tag(config=True)


class Refused(ValueError):
    """Why a file of a submission is not used, in words for a grading note."""


@dataclass
class Submission:
    files: dict[str, bytes] = field(default_factory=dict)      # notebook or timestamp.txt -> contents
    dropped: dict[str, str] = field(default_factory=dict)      # name in the folder ("." for all of it) -> why


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def refusal(st: os.stat_result) -> str | None:
    """Why a file with this (not followed) status may not be read; None for a regular file of its own."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return _("it is a symbolic link")
    if stat.S_ISFIFO(mode):
        return "it is a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return _("it is a socket")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return _("it is a device file")
    if not stat.S_ISREG(mode):
        return _("it is not a regular file")
    if st.st_nlink > 1:
        return _("it is a hard link (the same file has another name)")
    return None


def _read(folder_fd: int, name: str, st: os.stat_result, limit: int) -> bytes:
    if st.st_size > limit:
        raise Refused(_too_large(name, limit, _size(st.st_size)))
    fd = os.open(name, _OPEN, dir_fd=folder_fd)
    with os.fdopen(fd, "rb") as f:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
            raise Refused(_("it was replaced while it was read"))
        why = refusal(opened)
        if why:
            raise Refused(why)
        data = f.read(limit + 1)
    if len(data) > limit:
        raise Refused(_too_large(name, limit))
    return data


def _too_large(name: str, limit: int, size: str = "") -> str:
    said = (_("it is {size}, more than the {limit} a notebook may have") if size else
            _("it is more than the {limit} a notebook may have")) if name.endswith(NOTEBOOK_SUFFIX) else \
        (_("it is {size}, more than the {limit} {name} may have") if size else
         _("it is more than the {limit} {name} may have"))
    return said.format(size=size, limit=_size(limit), name=name)


def _open_folder(folder: Path) -> int:
    for path in (folder.parent, folder):
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise Refused(_("the folder {name} is a symbolic link").format(name=path.name))
    return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)


MAX_NOTEBOOKS = 10  # read from one folder: with the size limit, what one submission can cost in memory


def scan(folder: Path, limits: SubmissionLimits, wanted: set[str] = frozenset()) -> Submission:
    """The notebooks of the submission ``folder`` that may be graded, and what was left out.
    The ``wanted`` ones (the assignment's) are read first; at most MAX_NOTEBOOKS in all."""
    found = Submission()
    try:
        folder_fd = _open_folder(Path(folder))
    except (Refused, OSError) as e:
        found.dropped["."] = str(e) if isinstance(e, Refused) else _("the folder cannot be read ({error})").format(error=e.strerror)
        return found
    try:
        for name in sorted(os.listdir(folder_fd), key=lambda n: (n not in wanted, n)):
            st = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
            why = refusal(st)
            if why is None and name.endswith(NOTEBOOK_SUFFIX) and len(found.files) >= MAX_NOTEBOOKS:
                found.dropped[name] = _("grading reads at most {most} notebooks of a submission").format(most=MAX_NOTEBOOKS)
            elif why is None and (name.endswith(NOTEBOOK_SUFFIX) or name == TIMESTAMP):
                limit = limits.notebook_bytes if name != TIMESTAMP else TIMESTAMP_BYTES
                try:
                    found.files[name] = _read(folder_fd, name, st, limit)
                except (Refused, OSError) as e:
                    found.dropped[name] = str(e) if isinstance(e, Refused) else _("it cannot be read ({error})").format(error=e.strerror)
            elif why and not stat.S_ISDIR(st.st_mode):
                found.dropped[name] = why
            elif not name.startswith("."):
                found.dropped[name] = _(LEFT_OUT)
    finally:
        os.close(folder_fd)
    return found


def read_timestamp(folder: Path) -> datetime.datetime | None:
    """nbgrader's CourseDirectory.get_existing_timestamp without following a link or stopping on a bad date."""
    try:
        folder_fd = _open_folder(Path(folder))
    except (Refused, OSError):
        return None
    try:
        st = os.stat(TIMESTAMP, dir_fd=folder_fd, follow_symlinks=False)
        if refusal(st):
            return None
        return parse_utc(_read(folder_fd, TIMESTAMP, st, TIMESTAMP_BYTES).decode().strip())
    except (OSError, Refused, ValueError):
        return None
    finally:
        os.close(folder_fd)


def check_cells(text: str, limits: SubmissionLimits) -> None:
    """Raise Refused if the notebook ``text`` has more cells than allowed; counted on plain JSON,
    before nbformat builds and validates a node per cell (minutes for 50,000 cells)."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return  # not a notebook: nbformat says why
    if isinstance(cells, list) and len(cells) > limits.cells:
        raise Refused(_("it has {count} cells, more than the {most} a notebook may have").format(
            count=f"{len(cells):,}", most=f"{limits.cells:,}"))


MAX_NOTED = 10


def dropped_notes(dropped: dict[str, str]) -> list[str]:
    """Grading notes for what was left out, at most MAX_NOTED of them by name."""
    notes = [_("{name} was left out: {why}").format(name=literal(name), why=why) for name, why in list(dropped.items())[:MAX_NOTED]]
    if len(dropped) > MAX_NOTED:
        notes.append(_("{count} more files were left out").format(count=len(dropped) - MAX_NOTED))
    return notes
