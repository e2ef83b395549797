"""`make intake ARCHIVE=… [ROSTER=…]`: a platform's submissions archive → autograde/submitted/<student>/sheet03/.

The archive is a zip or a folder with one folder (or, from Moodle without folders, a set
of files) per student:

* Moodle's "Download all submissions": ``Full Name_<id>_assignsubmission_file_/<file>``,
  or ``Full Name_<id>_assignsubmission_file_<file>`` when the files are not in folders;
* anything else (Stud.IP): ``<folder>/<file>``, the folder named by the student's user name,
  matriculation number, e-mail or full name.

Everything in it is the students' and treated as hostile. Skipped, each with its reason:
entries whose names are absolute or climb out with ``..``, links and special files (also
zip entries whose mode bits say symlink, device or FIFO), encrypted entries, files larger
than MAX_FILE_BYTES *when unpacked* (counted while unpacking, never trusted from the
header: a zip bomb stops at the limit), everything after MAX_TOTAL_BYTES or MAX_ENTRIES,
files outside a student's folder, a student whom two folders claim (neither is taken: a
person must decide), a folder not on the roster. Files that are not notebooks are ignored.
A notebook under a wrong name is taken under the sheet's name its graded cells show (as
the batch does, autograde/batch/intake.py); a second notebook for the same name is skipped.

With a roster (autograde/platform/roster.py) folders map to user names and the gradebook
gets every roster person's name; without one, the folder's name (Moodle: the full name)
made safe is the student id. Each student's folder is written only when its notebooks
differ from what is there, so running the same intake twice changes nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

import nbformat

from ..batch.intake import _grade_ids, matching_notebook
from ..course import ASSIGNMENT, ROOT
from . import state
from .errors import ArchiveError, PlatformError
from .roster import Person, find, fill_names, read_roster

MAX_FILE_BYTES = 64 * 2**20        # one notebook, unpacked
MAX_TOTAL_BYTES = 2 * 2**30        # all notebooks of the archive, unpacked
MAX_ENTRIES = 20_000               # files and folders in the archive
MOODLE = re.compile(r"(?P<name>.+)_(?P<id>\d+)_assign(?:submission)?_(?:file|onlinetext)_(?P<rest>.*)")
PLATFORM_LITTER = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Entry:
    parts: tuple[str, ...]          # the path in the archive, checked: no "..", not absolute
    read: Callable[[int], bytes]    # read(limit) -> at most limit bytes of the unpacked content


@dataclass
class IntakeReport:
    taken: dict[str, dict[str, str]] = field(default_factory=dict)   # student -> {notebook: from where}
    moodle: dict[str, str] = field(default_factory=dict)              # student -> Moodle's "Full Name_<id>"
    missing: dict[str, list[str]] = field(default_factory=dict)       # student -> the sheet's notebooks not found
    unchanged: set[str] = field(default_factory=set)                  # students whose folder was already so
    skipped: list[tuple[str, str]] = field(default_factory=list)      # (what, why)
    ignored: list[str] = field(default_factory=list)                  # files that are not notebooks

    def skip(self, what: str, why: str) -> None:
        self.skipped.append((what, why))

    def text(self) -> str:
        lines = []
        for student, notebooks in sorted(self.taken.items()):
            state = " (unchanged)" if student in self.unchanged else ""
            lines.append(f"took     {student}{state}")
            lines += [f"           {name}.ipynb ← {source}" for name, source in sorted(notebooks.items())]
            lines += [f"           {name}.ipynb: not in the archive" for name in self.missing[student]]
        lines += [f"skipped  {what}: {why}" for what, why in self.skipped]
        if self.ignored:
            lines.append(f"ignored  {len(self.ignored)} file(s) that are not notebooks: "
                         + ", ".join(self.ignored[:5]) + (", …" if len(self.ignored) > 5 else ""))
        return "\n".join(lines)


def _checked_parts(name: str) -> tuple[str, ...] | str:
    """The parts of an archive name, or why it is refused."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if ".." in parts:
        return "a path that leaves the archive (..)"
    return parts


def zip_entries(path: Path, report: IntakeReport) -> Iterator[Entry]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ArchiveError(f"{path}: not a readable zip file ({e})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            report.skip(f"{path.name}", f"more than {MAX_ENTRIES} entries; only the first {MAX_ENTRIES} were read")
        for info in infos[:MAX_ENTRIES]:
            mode = info.external_attr >> 16
            parts = _checked_parts(info.filename)
            if isinstance(parts, str):
                report.skip(info.filename, parts)
            elif stat.S_ISLNK(mode):
                report.skip(info.filename, "a link")
            elif stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                report.skip(info.filename, "not a regular file")
            elif info.flag_bits & 0x1:
                report.skip(info.filename, "encrypted")
            elif not info.is_dir() and parts:
                def read(limit, info=info):
                    with archive.open(info) as stream:
                        return stream.read(limit)  # unpacks at most limit bytes
                yield Entry(parts, read)


def folder_entries(path: Path, report: IntakeReport) -> Iterator[Entry]:
    count = 0
    for top, dirs, files in os.walk(path):
        for name in sorted(dirs + files):
            count += 1
            if count > MAX_ENTRIES:
                report.skip(str(path), f"more than {MAX_ENTRIES} entries; only the first {MAX_ENTRIES} were read")
                return
            full = Path(top) / name
            shown = str(full.relative_to(path))
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                report.skip(shown, "a link")
                if name in dirs:
                    dirs.remove(name)
            elif stat.S_ISREG(mode):
                def read(limit, full=full):
                    fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                    with os.fdopen(fd, "rb") as stream:
                        return stream.read(limit)
                yield Entry(tuple(full.relative_to(path).parts), read)
            elif not stat.S_ISDIR(mode):
                report.skip(shown, "not a regular file")
        dirs.sort()


def _folder(parts: tuple[str, ...]) -> tuple[str, str] | None:
    """(the student's folder an archive path lies in, the name it calls its student); None outside one.

    Moodle's ``Full Name_<id>_assignsubmission_file_`` is the folder ``Full Name_<id>`` of "Full Name"."""
    moodle = MOODLE.fullmatch(parts[0])
    if moodle:
        inside = moodle["rest"] or len(parts) > 1
        return (f"{moodle['name']}_{moodle['id']}", moodle["name"]) if inside else None
    return (parts[0], parts[0]) if len(parts) > 1 else None


def _safe_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.strip()).strip("._") or "unnamed"


def _expected(course: Path) -> dict[str, set[str]]:
    """Each notebook of the sheet -> its grade ids, from the source notebooks."""
    source = course / "solutions" / ASSIGNMENT
    return {p.stem: _grade_ids(nbformat.read(p, as_version=4)) for p in sorted(source.glob("*.ipynb"))}


def collect(entries: Iterator[Entry], report: IntakeReport) -> dict[tuple[str, str], list[tuple[str, bytes]]]:
    """(folder, the name it calls its student) -> [(path in the archive, content)] of its notebooks."""
    folders: dict[tuple[str, str], list[tuple[str, bytes]]] = {}
    total = 0
    for entry in entries:
        shown = "/".join(entry.parts)
        if any(p in PLATFORM_LITTER or p.startswith("._") for p in entry.parts):
            continue
        owner = _folder(entry.parts)
        if not shown.lower().endswith(".ipynb"):
            report.ignored.append(shown)
            continue
        if owner is None:
            report.skip(shown, "not in a student's folder")
            continue
        try:
            data = entry.read(MAX_FILE_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
            report.skip(shown, f"damaged or unreadable ({type(e).__name__}: {str(e)[:80]})")
            continue
        if len(data) > MAX_FILE_BYTES:
            report.skip(shown, f"larger than {MAX_FILE_BYTES // 2**20} MiB unpacked")
            continue
        if total + len(data) > MAX_TOTAL_BYTES:
            report.skip(shown, f"the archive's notebooks exceed {MAX_TOTAL_BYTES // 2**30} GiB; this and later ones "
                               "were not read")
            continue
        total += len(data)
        folders.setdefault(owner, []).append((shown, data))
    return folders


def assign_notebooks(files: list[tuple[str, bytes]], expected: dict[str, set[str]],
                     report: IntakeReport) -> dict[str, tuple[str, bytes]]:
    """The sheet's notebook name -> (where from, content): exact names first, then by graded cells."""
    chosen: dict[str, tuple[str, bytes]] = {}
    others = []
    for shown, data in sorted(files):
        stem = PurePosixPath(shown).stem
        if stem in expected and stem not in chosen:
            chosen[stem] = (shown, data)
        else:
            others.append((shown, data))
    for shown, data in others:
        try:
            nb = nbformat.reads(data.decode("utf-8", errors="replace"), as_version=4)
        except Exception:
            report.skip(shown, "not a readable notebook, and its name is none of the sheet's")
            continue
        missing = [n for n in expected if n not in chosen]
        best = matching_notebook(nb, missing, expected)
        if best is None:
            same = PurePosixPath(shown).stem in expected
            report.skip(shown, "a second notebook for the same part of the sheet" if same or _grade_ids(nb)
                        else "not a notebook of this sheet")
        else:
            chosen[best] = (shown, data)
    return chosen


def _students(folders: dict[tuple[str, str], list], people: list[Person] | None,
              report: IntakeReport) -> dict[tuple[str, str], str]:
    """Folder -> student id, leaving out folders that are not on the roster or claim a student twice."""
    owner: dict[tuple[str, str], str] = {}
    for folder in sorted(folders):
        if people is None:
            owner[folder] = _safe_id(folder[1])
            continue
        match = find(people, folder[1])
        if len(match) == 1:
            owner[folder] = match[0].username
        else:
            report.skip(f"{folder[0]}/", "not on the roster" if not match else
                        f"the roster has {len(match)} people of this name ({', '.join(p.username for p in match)})")
    claims: dict[str, list[tuple[str, str]]] = {}
    for folder, student in owner.items():
        claims.setdefault(student, []).append(folder)
    for student, claimed in claims.items():
        if len(claimed) > 1:
            for folder in claimed:
                del owner[folder]
            report.skip(" and ".join(f"{f}/" for f, _ in claimed),
                        f"all hand in for {student}; none was taken (decide which counts, then run again "
                        "with the others removed)")
    return owner


def _write(target: Path, notebooks: dict[str, bytes]) -> bool:
    """Make ``target`` hold exactly these notebooks; False when it already did."""
    current = {p.name: p.read_bytes() if p.is_file() else None for p in target.iterdir()} if target.is_dir() else None
    wanted = {f"{name}.ipynb": data for name, data in notebooks.items()}
    if current == wanted:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    for name, data in wanted.items():
        (fresh / name).write_bytes(data)
    if target.exists():
        shutil.rmtree(target)
    fresh.rename(target)
    return True


def run_intake(archive: Path, course: Path = ROOT, roster: Path | None = None) -> IntakeReport:
    """Take the archive into ``course``/autograde/submitted/; returns what was taken and skipped."""
    report = IntakeReport()
    archive = Path(archive)
    if archive.is_dir():
        entries = folder_entries(archive, report)
    elif zipfile.is_zipfile(archive):
        entries = zip_entries(archive, report)
    else:
        raise ArchiveError(f"{archive}: neither a folder nor a zip file")
    people = read_roster(roster) if roster else None
    expected = _expected(course)
    folders = collect(entries, report)
    owners = _students(folders, people, report)
    for folder, student in sorted(owners.items(), key=lambda kv: kv[1]):
        chosen = assign_notebooks(folders[folder], expected, report)
        if not chosen:
            report.skip(f"{folder[0]}/", "no notebook of this sheet in it")
            continue
        report.taken[student] = {name: shown for name, (shown, _) in chosen.items()}
        report.missing[student] = [name for name in expected if name not in chosen]
        if MOODLE.fullmatch(chosen[min(chosen)][0].split("/")[0]):
            report.moodle[student] = folder[0]
        target = course / "autograde" / "submitted" / student / ASSIGNMENT
        if not _write(target, {name: data for name, (_, data) in chosen.items()}):
            report.unchanged.add(student)
    state.save(course, people, report.moodle)
    if people is not None:
        fill_names(f"sqlite:///{course / 'autograde' / 'gradebook.db'}", people)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="the platform's submissions zip, or a folder")
    parser.add_argument("--roster", type=Path, help="the platform's participant list (CSV)")
    args = parser.parse_args(argv)
    try:
        report = run_intake(args.archive, roster=args.roster)
    except PlatformError as e:
        sys.exit(str(e))
    print(report.text())
    changed = len(report.taken) - len(report.unchanged)
    print(f"\n{len(report.taken)} student(s) taken ({changed} new or changed), {len(report.skipped)} skipped; "
          f"submissions in autograde/submitted/, next: make grade")


if __name__ == "__main__":
    main()
