"""The fixture course of the end-to-end tests (see autograde/scratch_course.py)."""
from autograde.scratch_course import ASSIGNMENT, ROOT, Course  # noqa: F401
