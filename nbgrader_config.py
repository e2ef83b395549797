"""nbgrader configuration of the course: run every nbgrader command from this folder.

Layout: source notebooks in solutions/<assignment>/, the release in exercises/<assignment>/,
submissions in autograde/submitted/<student>/<assignment>/, and everything grading
produces (autograded notebooks, feedback, the SQLite gradebook) under autograde/.

`nbgrader autograde` runs the project's own steps around the kernel (see autograde/steps):
the grader's requests are written before it starts, answers survive a dying kernel, and
every graded cell is decided from its answer data in this process, never in the kernel.
"""
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, CheckCellMetadata, ClearHiddenTests, ClearOutput, DeduplicateIds, GetGrades,
    IgnorePattern, LimitOutput, OverwriteCells, OverwriteKernelspec, SaveAutoGrades)

from autograde.steps import (  # noqa: E402
    ExecuteKeepingAnswers, JudgeAnswers, SaveExtraCredit, WriteGraderRequests)

c = get_config()  # noqa: F821  (provided by nbgrader's config loader)

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "dl-sheet03"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = os.path.join("autograde", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("autograde", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("autograde", "feedback")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "autograde", "gradebook.db")
# Instructor data never sits in solutions/sheet03 (it would be copied into the release).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

c.Execute.timeout = 60          # seconds per cell
c.Execute.interrupt_on_timeout = True

c.Autograde.sanitize_preprocessors = [
    ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
c.Autograde.autograde_preprocessors = [
    WriteGraderRequests,
    ExecuteKeepingAnswers,
    JudgeAnswers,               # before anything that reads or trims outputs
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    SaveExtraCredit,            # bonus cells: their points go to Grade.extra_credit
    AssignLatePenalties,
    CheckCellMetadata,
]

# Feedback shows the verdicts, not the graded cells' hidden code.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
