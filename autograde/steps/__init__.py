"""nbgrader preprocessors that nbgrader_config.py wires into `nbgrader autograde`, one step per file.

Order inside autograde: WriteGraderRequests -> ExecuteKeepingAnswers -> JudgeAnswers
-> (nbgrader's own) ... SaveAutoGrades.
"""
from .write_requests import WriteGraderRequests
from .execute_keeping_answers import ExecuteKeepingAnswers
from .judge_answers import JudgeAnswers

__all__ = ["WriteGraderRequests", "ExecuteKeepingAnswers", "JudgeAnswers"]
