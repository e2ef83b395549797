"""The grader's secret: seeds every hidden probe, so probes are fresh per student yet reproducible.

Taken from $COURSE_GRADER_SECRET, else from autograde/secret.key (created on first
use, git-ignored). The same secret, student and notebook always give the same
probes, so a submission gets the same points alone, in a batch, serial or parallel.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = Path(__file__).resolve().parent / "secret.key"


def load_secret() -> str:
    env = os.environ.get("COURSE_GRADER_SECRET")
    if env:
        return env
    try:
        return SECRET_FILE.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_hex(32)
        fd = os.open(SECRET_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value
