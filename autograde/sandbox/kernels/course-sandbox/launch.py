"""Started by jupyter_client for the course-sandbox kernelspec: run the sandbox launcher.

Python runs it isolated and without site (kernel.json: -I -S): the launcher, started for
every notebook, needs nothing from site-packages to start a warm kernel, and site's
imports would cost it a tenth of its CPU time (a cold kernel's launcher adds site: launcher.sandbox_argv).
jupyter_client starts kernels in the notebook's folder, where the autograde package
is not importable, so this file puts the folder holding it on sys.path first (without pathlib: launcher.py).
"""
import os
import sys

sys.path.insert(0, os.path.realpath(__file__).rsplit(os.sep, 5)[0])  # <it>/autograde/sandbox/kernels/course-sandbox/launch.py

from autograde.sandbox.launcher import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
