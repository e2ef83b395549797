"""`make doctor`: what this host gives the kernel sandbox, which backend grading uses, and the step to a stronger one.

Exits 1 where grading would stop (Sandbox.check), with the same reason `make grade` and
`nbgrader autograde` give.
"""
from __future__ import annotations

import os
import sys

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .sandbox.settings import Sandbox, SandboxUnavailable
from .sandbox.host import findings


def main() -> int:
    """Reads c.Sandbox.* from the nbgrader_config.py of the current folder, as grading does."""
    config = (PyFileConfigLoader("nbgrader_config.py", path=os.getcwd()).load_config()
              if os.path.exists("nbgrader_config.py") else Config())
    sandbox = Sandbox(config=config)
    for label, text in findings(sandbox.cgroups):
        print(f"{label + ':':<12} {text}")
    try:
        sandbox.check()
    except SandboxUnavailable as e:
        print(f"{'grading:':<12} stops: {e}")
        return 1
    print(f"{'grading:':<12} safe on this host")
    return 0


if __name__ == "__main__":
    sys.exit(main())
