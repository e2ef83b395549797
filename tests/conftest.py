import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the instructor package autograde/ is not installed, only course_lib is
os.environ.setdefault("COURSE_GRADER_SECRET", "tests-secret")
