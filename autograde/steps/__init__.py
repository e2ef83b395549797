"""nbgrader preprocessors that nbgrader_config.py wires into `nbgrader autograde`, one step per file.

Sanitizing: SpeakTheNotebooksLanguage -> (nbgrader's ClearOutput) -> RestoreLayout -> (nbgrader's own) ...
OverwriteCellsReadOnce (nbgrader's OverwriteCells) -> KeepNotebookLanguage -> CheckMetadataOnce (nbgrader's
CheckCellMetadata, checking what passed once).
Order inside autograde: WriteGraderRequests -> ExecuteInSandbox (an ExecuteKeepingAnswers) -> JudgeAnswers
-> (nbgrader's own) ... CheckNotebookValid -> SaveAutoGradesReadOnce (nbgrader's SaveAutoGrades) -> SaveExtraCredit
-> (nbgrader's own) -> CheckMetadataOnce.
Release: ClearSolutionsToStubsThatRun (nbgrader's ClearSolutions, stubs that keep a cell runnable).
Feedback: GetGradesMarkingWaiting (nbgrader's GetGrades, and which cells wait for a tutor).
Between the steps: common.Grading, one per notebook in resources; the request file: request_file.py;
the gradebook's rows for one notebook, read once: stored_notebook.py.
"""
from .speak_the_notebooks_language import SpeakTheNotebooksLanguage
from .restore_layout import RestoreLayout
from .overwrite_cells_read_once import OverwriteCellsReadOnce
from .keep_notebook_language import KeepNotebookLanguage
from .write_requests import WriteGraderRequests
from .execute_keeping_answers import ExecuteKeepingAnswers
from .execute_in_sandbox import ExecuteInSandbox
from .judge_answers import JudgeAnswers
from .save_auto_grades_read_once import SaveAutoGradesReadOnce
from .save_extra_credit import SaveExtraCredit
from .get_grades_marking_waiting import GetGradesMarkingWaiting
from .clear_solutions_to_stubs_that_run import ClearSolutionsToStubsThatRun
from .check_metadata_once import CheckMetadataOnce
from .check_notebook_valid import CheckNotebookValid

__all__ = ["SpeakTheNotebooksLanguage", "RestoreLayout", "OverwriteCellsReadOnce", "KeepNotebookLanguage",
           "WriteGraderRequests", "ExecuteKeepingAnswers", "ExecuteInSandbox", "JudgeAnswers", "SaveAutoGradesReadOnce",
           "SaveExtraCredit", "GetGradesMarkingWaiting",
           "ClearSolutionsToStubsThatRun", "CheckMetadataOnce", "CheckNotebookValid"]
