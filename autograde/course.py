"""The course this package grades: its folder and its one assignment."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "sheet03"
