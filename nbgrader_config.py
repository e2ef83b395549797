"""nbgrader configuration of the course: run every nbgrader command from this folder.

Layout: source notebooks in solutions/<assignment>/, the release in exercises/<assignment>/
(English; the German twins in solutions-de/ and exercises-de/, see autograde/language.py),
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

from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.converters import GenerateAssignment  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties, ClearHiddenTests, ClearOutput, ClearSolutions, DeduplicateIds,
    IgnorePattern, LimitOutput, OverwriteKernelspec)

from autograde import gradebook_engine, safe_autograde  # noqa: E402
from autograde.feedback_exporter import CSSHTMLHeaderOnce, FeedbackExporter, use_in_formgrader  # noqa: E402
from autograde.platform.grades_out import TaskTableExport  # noqa: E402
from autograde.practice import skip_practice_notebooks  # noqa: E402
from autograde.validated_once import NotebookValidatedOnce  # noqa: E402
from autograde.steps import (  # noqa: E402
    CheckMetadataOnce, CheckNotebookValid, ClearSolutionsToStubsThatRun, ExecuteInSandbox, GetGradesMarkingWaiting,
    JudgeAnswers, KeepNotebookLanguage, OverwriteCellsReadOnce, RestoreLayout, SaveAutoGradesReadOnce, SaveExtraCredit,
    SpeakTheNotebooksLanguage, WriteGraderRequests)

c = get_config()  # noqa: F821  (provided by nbgrader's config loader)

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "dl-sheet03"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = os.path.join("autograde", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("autograde", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("autograde", "feedback")
# The exchange (`nbgrader release_assignment`, students' `nbgrader submit`, `nbgrader collect`) inside
# the course, so the formgrader finds it; students on a shared JupyterHub need it where they can
# write (a folder with mode 1777, as nbgrader's docs describe): set c.Exchange.root there.
c.Exchange.root = os.path.join(ROOT, "autograde", "exchange")
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "autograde", "gradebook.db")
gradebook_engine.install()  # one engine per gradebook, its compiled queries kept (nbgrader opens it ~25 times)
# Instructor data never sits in solutions/sheet03 (it would be copied into the release).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# The release runs top to bottom as handed out: a stub that raises would stop Run All before any
# self-check, so a solution region becomes a comment, inside the dict, list or function that stays;
# only where a comment alone would not compile does `raise NotImplementedError()` follow it.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
c.GenerateAssignment.preprocessors = [
    ClearSolutionsToStubsThatRun if step is ClearSolutions else step
    for step in GenerateAssignment.class_traits()["preprocessors"].default()]

c.Execute.timeout = 60          # seconds per cell
c.Execute.interrupt_on_timeout = True

# Every kernel runs sandboxed (autograde/sandbox): its own unprivileged user, no network,
# no files but the runtime and its own copy. Limits per notebook, enforced by the OS:
c.Sandbox.notebook_seconds = 600        # wall time for the whole notebook
c.Sandbox.memory_bytes = 2 * 2**30      # the kernel and every process it starts, together
c.Sandbox.processes = 64                # at once
c.Sandbox.output_bytes = 16 * 2**20     # everything the notebook shows; counted as it arrives
c.Sandbox.warm_kernels = True           # fork each kernel from a server with the imports done (sandbox/warm.py)
c.Sandbox.cgroups = "auto"              # the strongest this host gives: v1, v2, else per-process limits (make doctor)

# A submission is read through autograde/submission_files.py: no link, hard link or special file
# is followed, only the notebooks are used (nothing else is copied), and a notebook over these
# limits is not executed and earns 0, with a note. Autograded copies are readable by the owner's group only.
safe_autograde.install()
c.SubmissionLimits.notebook_bytes = 20 * 2**20
c.SubmissionLimits.cells = 2000
c.Autograde.permissions = 440
# Both passes copy each notebook once and validate it once, not after every step (autograde/validated_once.py).
c.Autograde.exporter_class = NotebookValidatedOnce

# Answers are judged outside the kernel, in a judge process of their own (autograde/judge.py):
c.Judge.seconds = 10                    # per graded cell; past it the cell gets 0 with a note
c.Judge.memory_bytes = 2 * 2**30        # the judge's memory beyond the grader's own
# make grade: wall time for one whole submission; past it the job is killed and reported as failed
c.Batch.job_seconds = 2400

# The feedback speaks the submitted notebook's language (metadata["course_lib"]["language"], "de" or "en");
# a notebook naming none of them gets the default. `fixed` would put every feedback in one language.
c.Language.default = "de"
c.Language.fixed = ""

# nbgrader clears the notebook's metadata after judging; the feedback still needs to know its language.
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = {("language_info", "name"), ("course_lib", "language")}

# A student hands in the German (exercises-de/) or the English release (exercises/) under the same names; the
# gradebook holds the English sources, so a German notebook's locked text is put back in German (language.py).
c.Autograde.sanitize_preprocessors = [
    SpeakTheNotebooksLanguage, ClearOutput, RestoreLayout, DeduplicateIds, OverwriteKernelspec,
    OverwriteCellsReadOnce,     # nbgrader's OverwriteCells, from the notebook's rows RestoreLayout read once
    KeepNotebookLanguage,
    CheckMetadataOnce]   # nbgrader's CheckCellMetadata, what passed remembered by content
# Practice notebooks (d_…) have no graded cells: autograde leaves them out instead of running them.
c.Autograde.pre_convert_hook = skip_practice_notebooks
c.Autograde.autograde_preprocessors = [
    WriteGraderRequests,
    ExecuteInSandbox,           # the kernel runs in autograde/sandbox, within c.Sandbox's limits
    JudgeAnswers,               # before anything that reads or trims outputs
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    CheckNotebookValid,         # points only from a valid notebook (the exporter validates once, after the last step)
    SaveAutoGradesReadOnce,     # nbgrader's SaveAutoGrades: the notebook's grades read in one query, one commit
    SaveExtraCredit,            # bonus cells: their points go to Grade.extra_credit
    AssignLatePenalties,
    CheckMetadataOnce,
]

# Feedback shows the verdicts, not the graded cells' hidden code, no HTML of the student's that could run
# (feedback_exporter.py), and "waiting for a tutor" where nbgrader would print 0 for a written answer
# nobody has graded yet; the formgrader renders submissions with the same exporter.
c.GenerateFeedback.exporter_class = FeedbackExporter  # HTMLExporter, student HTML cleaned, compiled templates cached
use_in_formgrader()
c.GenerateFeedback.preprocessors = [GetGradesMarkingWaiting, CSSHTMLHeaderOnce, ClearHiddenTests]

# `nbgrader export` writes a column per graded cell, the total (never above the maximum), the
# bonus apart and what still waits for a tutor (autograde/platform/grades_out.py).
c.ExportApp.plugin_class = TaskTableExport
