"""Started by jupyter_client for the course-sandbox kernelspec: run the sandbox launcher.

Python runs it isolated and without site (kernel.json: -I -S): the launcher, started for
every notebook, needs nothing from site-packages to start a warm kernel, and site's
imports would cost it a tenth of its CPU time (a cold kernel's launcher adds site: launcher.sandbox_argv).
jupyter_client starts kernels in the notebook's folder, where the autograde package
is not importable, so this file puts the folder holding it on sys.path first.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))

from autograde.sandbox.launcher import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
