"""Instructor side of the course: keys, the nbgrader steps that judge answers, TA tools. Never shipped."""
