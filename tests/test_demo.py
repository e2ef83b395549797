"""`make demo` says, while it autogrades, how far it is and what each sample student shows."""
from autograde.demo import AutogradeProgress, what_each_shows
from autograde.samples import students


def test_demo_says_what_every_sample_student_shows():
    shows = what_each_shows()
    missing = [student for student in students() if len(shows.get(student, "")) < 10]
    assert missing == [], "give each sample a comment at its entry in autograde/samples"


def test_autograde_progress_prints_one_line_per_student_as_nbgrader_starts_on_them(capsys):
    progress = AutogradeProgress(["blank", "reference"])
    for student, notebook in [("blank", "a"), ("blank", "b"), ("reference", "a")]:   # lines as nbgrader logs them
        progress(f"[AutogradeApp | INFO] Sanitizing /course/autograde/submitted/{student}/sheet03/{notebook}.ipynb\n")
    progress("[AutogradeApp | INFO] Autograding /course/autograde/autograded/reference/sheet03/a.ipynb\n")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "[ 1/2]" in lines[0] and "blank: the release as handed out" in lines[0]
    assert "[ 2/2]" in lines[1] and "reference: every answer from the solutions" in lines[1]
