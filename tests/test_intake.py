"""make intake: a platform's submissions archive taken in exactly as specified, hostile entries included."""
import io
import shutil
import stat
import struct
import zipfile

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograde.platform import intake
from autograde.platform.errors import RosterError
from autograde.platform.roster import read_roster
from autograde.course import ASSIGNMENT, ROOT

RELEASE = ROOT / "exercises" / ASSIGNMENT
A, B, C = "a_vanishing_gradient", "b_rosenbrock_graph", "c_mlp_jacobians"
ROSTER = """Nutzername;Matrikelnummer;E-Mail;Vorname;Nachname
alice;1001;alice@uni.example;Alice;Example
bob;1002;bob@uni.example;Bob;Builder
dave;1004;dave@uni.example;Dave;Duplicate
eve;1005;eve@uni.example;Eve;Huge
"""
MOODLE = "_assignsubmission_file_"


def notebook(name: str) -> bytes:
    return (RELEASE / f"{name}.ipynb").read_bytes()


def _add(archive, name, data=b"", mode=stat.S_IFREG | 0o644, compress=zipfile.ZIP_DEFLATED):
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    info.compress_type = compress
    archive.writestr(info, data)


def _forge_sizes(raw: bytes, name: str, size: int) -> bytes:
    """The zip with the unpacked size of ``name`` claimed as ``size`` in both headers (a lying zip bomb)."""
    raw = bytearray(raw)
    encoded = name.encode()
    local = raw.find(b"PK\x03\x04" + b"\x00" * 0, 0)
    while local >= 0:
        if raw[local + 30: local + 30 + len(encoded)] == encoded:
            struct.pack_into("<I", raw, local + 22, size)
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        if raw[central + 46: central + 46 + len(encoded)] == encoded:
            struct.pack_into("<I", raw, central + 24, size)
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)


@pytest.fixture
def course(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 2**20)  # 1 MiB: the huge file and the bombs stay small to build
    (tmp_path / "course" / "solutions").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, tmp_path / "course" / "solutions" / ASSIGNMENT)
    (tmp_path / "roster.csv").write_text(ROSTER)
    return tmp_path / "course"


@pytest.fixture
def archive(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        alice = f"Alice Example_101{MOODLE}/"
        for name in (A, B, C):
            _add(z, alice + f"{name}.ipynb", notebook(name))
        _add(z, alice + "Abgabe.pdf", b"%PDF-1.4")
        _add(z, f"Bob Builder_102{MOODLE}/Blatt 3 (1).ipynb", notebook(B))       # renamed: graded as b
        _add(z, f"Bob Builder_102{MOODLE}/{B}.ipynb.bak", b"{}")
        _add(z, f"Bob Builder_102{MOODLE}/{A}.ipynb", b"/etc/passwd", stat.S_IFLNK | 0o777)
        _add(z, f"Bob Builder_102{MOODLE}/fifo.ipynb", b"", stat.S_IFIFO | 0o644)
        _add(z, f"Bob Builder_102{MOODLE}/../../escape.ipynb", notebook(A))
        _add(z, "/etc/cron.d/evil.ipynb", notebook(A))
        _add(z, f"Dave Duplicate_104{MOODLE}/{A}.ipynb", notebook(A))
        _add(z, f"dave/{A}.ipynb", notebook(A))                                  # the same student again
        _add(z, f"Eve Huge_105{MOODLE}/{A}.ipynb", notebook(A))
        _add(z, f"Eve Huge_105{MOODLE}/{B}.ipynb", b"x" * (2**20 + 1), compress=zipfile.ZIP_STORED)
        _add(z, f"Eve Huge_105{MOODLE}/{C}.ipynb", b" " * (64 * 2**20))            # a zip bomb: 64 MiB in ~64 KB
        _add(z, f"Eve Huge_105{MOODLE}/lying.ipynb", b" " * (8 * 2**20))
        _add(z, f"Mallory Stranger_106{MOODLE}/{A}.ipynb", notebook(A))            # not on the roster
        _add(z, f"loose.ipynb", notebook(A))
    path = archive_path = buffer.getvalue()
    path = _forge_sizes(archive_path, f"Eve Huge_105{MOODLE}/lying.ipynb", 100)
    target = tmp_path / "submissions.zip"
    target.write_bytes(path)
    return target


def _submitted(course, student):
    folder = course / "autograde" / "submitted" / student / ASSIGNMENT
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.is_dir() else None


def test_an_archive_with_every_fault_is_taken_in_as_specified(course, archive, tmp_path):
    report = intake.run_intake(archive, course, tmp_path / "roster.csv")
    assert set(report.taken) == {"alice", "bob", "eve"}
    assert _submitted(course, "alice") == {f"{n}.ipynb": notebook(n) for n in (A, B, C)}
    assert _submitted(course, "bob") == {f"{B}.ipynb": notebook(B)}
    assert report.taken["bob"] == {B: f"Bob Builder_102{MOODLE}/Blatt 3 (1).ipynb"}
    assert _submitted(course, "eve") == {f"{A}.ipynb": notebook(A)}
    assert _submitted(course, "dave") is None
    skipped = dict(report.skipped)
    assert skipped[f"Bob Builder_102{MOODLE}/{A}.ipynb"] == "a link"
    assert skipped[f"Bob Builder_102{MOODLE}/fifo.ipynb"] == "not a regular file"
    assert skipped[f"Bob Builder_102{MOODLE}/../../escape.ipynb"] == "a path that leaves the archive (..)"
    assert skipped["/etc/cron.d/evil.ipynb"] == "an absolute path"
    assert skipped[f"Dave Duplicate_104/ and dave/"].startswith("all hand in for dave; none was taken")
    assert skipped[f"Eve Huge_105{MOODLE}/{B}.ipynb"] == "larger than 1 MiB unpacked"
    assert skipped[f"Eve Huge_105{MOODLE}/{C}.ipynb"] == "larger than 1 MiB unpacked"
    assert skipped[f"Eve Huge_105{MOODLE}/lying.ipynb"].startswith("damaged or unreadable (BadZipFile")
    assert skipped["Mallory Stranger_106/"] == "not on the roster"
    assert skipped["loose.ipynb"] == "not in a student's folder"
    assert len(report.skipped) == 10
    assert sorted(report.ignored) == [f"Alice Example_101{MOODLE}/Abgabe.pdf", f"Bob Builder_102{MOODLE}/{B}.ipynb.bak"]
    assert not list(tmp_path.rglob("escape.ipynb")) and not list(tmp_path.rglob("evil.ipynb"))
    text = report.text()
    assert "took     bob" in text and "a link" in text and "not on the roster" in text


def test_running_it_twice_changes_nothing(course, archive, tmp_path):
    intake.run_intake(archive, course, tmp_path / "roster.csv")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (course / "autograde" / "submitted").rglob("*")
              if p.is_file()}
    again = intake.run_intake(archive, course, tmp_path / "roster.csv")
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (course / "autograde" / "submitted").rglob("*")
             if p.is_file()}
    assert after == before
    assert again.unchanged == set(again.taken) == {"alice", "bob", "eve"}


def test_the_roster_fills_nbgraders_student_names(course, archive, tmp_path):
    intake.run_intake(archive, course, tmp_path / "roster.csv")
    with Gradebook(f"sqlite:///{course / 'autograde' / 'gradebook.db'}") as gb:
        people = {s.id: (s.first_name, s.last_name, s.email) for s in gb.students}
    assert people["alice"] == ("Alice", "Example", "alice@uni.example")
    assert set(people) == {"alice", "bob", "dave", "eve"}


def test_a_folder_archive_skips_links_and_matches_folders_by_user_name(course, tmp_path):
    folder = tmp_path / "export"
    (folder / "alice").mkdir(parents=True)
    (folder / "alice" / f"{A}.ipynb").write_bytes(notebook(A))
    (folder / "alice" / f"{B}.ipynb").symlink_to(RELEASE / f"{B}.ipynb")
    (folder / "1002").mkdir()                          # bob, by matriculation number
    (folder / "1002" / "copy.ipynb").write_bytes(notebook(C))
    (folder / "eve").symlink_to(folder / "alice")
    report = intake.run_intake(folder, course, tmp_path / "roster.csv")
    assert _submitted(course, "alice") == {f"{A}.ipynb": notebook(A)}
    assert _submitted(course, "bob") == {f"{C}.ipynb": notebook(C)}
    assert dict(report.skipped) == {f"alice/{B}.ipynb": "a link", "eve": "a link"}


def test_without_a_roster_moodle_names_become_student_ids(course, tmp_path):
    target = tmp_path / "moodle.zip"
    with zipfile.ZipFile(target, "w") as z:
        _add(z, f"Jörg Müller-Lüdenscheidt_7{MOODLE}{A}.ipynb", notebook(A))    # Moodle without folders
    report = intake.run_intake(target, course)
    assert list(report.taken) == ["J_rg_M_ller-L_denscheidt"]


def test_a_roster_without_user_names_is_refused_with_the_reason(tmp_path):
    (tmp_path / "r.csv").write_text("Email address,First name\na@b,A\n")
    with pytest.raises(RosterError, match="no column of user names"):
        read_roster(tmp_path / "r.csv")


def test_a_moodle_participant_export_is_read(tmp_path):
    (tmp_path / "r.csv").write_text('"First name","Last name","ID number","Email address","Username"\n'
                                    '"Ada","Lovelace","42","ada@x","ada"\n')
    [ada] = read_roster(tmp_path / "r.csv")
    assert (ada.username, ada.matriculation, ada.email, ada.full_name) == ("ada", "42", "ada@x", "Ada Lovelace")
