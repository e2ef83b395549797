"""nbgrader preprocessors that nbgrader_config.py wires into `nbgrader autograde`, one step per file.

Order inside autograde: WriteGraderRequests -> ExecuteKeepingAnswers -> JudgeAnswers
-> (nbgrader's own) ... SaveAutoGrades -> SaveExtraCredit.
"""
from .write_requests import WriteGraderRequests
from .execute_keeping_answers import ExecuteKeepingAnswers
from .judge_answers import JudgeAnswers
from .save_extra_credit import SaveExtraCredit

__all__ = ["WriteGraderRequests", "ExecuteKeepingAnswers", "JudgeAnswers", "SaveExtraCredit"]
