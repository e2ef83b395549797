"""A throw-away nbgrader course made from this repository, for end-to-end tests and benchmarks.

It holds copies of nbgrader_config.py, solutions/, solutions-de/ and the instructor
code, so every nbgrader command runs exactly as a TA would run it, but never touches
the repository's own exercises/, autograde/ folders or gradebook. ``Course(path, "de")``
is there to make the German release: its solutions/ are the German sources
(solutions-de/). Grade in an English course: its gradebook holds the English sources,
as the term's does, and German submissions are graded against it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .course import ASSIGNMENT, ROOT
from .language import FOLDERS

_RUNTIME = shutil.ignore_patterns("submitted", "autograded", "feedback", "exchange", "gradebook.db", "secret.key",
                                  "grades.csv", "platform.json", "export", "__pycache__")


class Course:
    def __init__(self, path: Path, language: str = "en"):
        self.path = path
        shutil.copy(ROOT / "nbgrader_config.py", path)
        shutil.copytree(ROOT / FOLDERS[language][0], path / "solutions")
        shutil.copytree(ROOT / FOLDERS["de"][0], path / FOLDERS["de"][0])  # what grading a German notebook reads
        shutil.copytree(ROOT / "autograde", path / "autograde", ignore=_RUNTIME)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.path / 'autograde' / 'gradebook.db'}"

    def nbgrader(self, *args: str) -> str:
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
        assert done.returncode == 0, done.stdout[-5000:]
        return done.stdout

    def release(self) -> Path:
        self.nbgrader("generate_assignment", ASSIGNMENT, "--force")
        return self.path / "exercises" / ASSIGNMENT

    def submission_dir(self, student: str) -> Path:
        return self.path / "autograde" / "submitted" / student / ASSIGNMENT
