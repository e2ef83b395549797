"""`make formgrader`: as root and as an ordinary user, on a chosen port, with the exchange inside the course."""
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest
from traitlets.config import PyFileConfigLoader

from autograde.course import ROOT


def _formgrader_command(*make_args: str, user: str | None = None) -> str:
    """The command line `make formgrader` runs (make -n), as root or as ``user``."""
    if user is None:
        folder = str(ROOT)
    else:  # the user may not be able to read the checkout: the Makefile in a folder anybody can read
        folder = tempfile.mkdtemp(prefix="formgrader-make-", dir="/tmp")
        os.chmod(folder, 0o755)
        for name in ("Makefile", "pyproject.toml"):
            shutil.copy(ROOT / name, folder)
            os.chmod(os.path.join(folder, name), 0o644)
    try:
        prefix = ["runuser", "-u", user, "--"] if user else []
        done = subprocess.run([*prefix, "make", "--no-print-directory", "-n", "-C", folder, "formgrader", *make_args],
                              capture_output=True, text=True, check=True)
    finally:
        if user is not None:
            shutil.rmtree(folder)
    return done.stdout.replace("\\\n", " ")


def test_formgrader_takes_a_port_and_no_browser():
    command = _formgrader_command("PORT=8899", "NO_BROWSER=1")
    assert "jupyter lab" in command and "--ServerApp.port=8899" in command and "--no-browser" in command
    assert "--no-browser" not in _formgrader_command()


def test_allow_root_only_as_root():
    assert ("--allow-root" in _formgrader_command()) is (os.geteuid() == 0)
    if os.geteuid() != 0:
        pytest.skip("checking an ordinary user's command line needs root (runuser)")
    assert "--allow-root" not in _formgrader_command(user=pwd.getpwuid(65534).pw_name)


def test_the_exchange_is_inside_the_course_and_made_by_the_target():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.Exchange.root == str(ROOT / "autograde" / "exchange")
    assert "mkdir -p autograde/exchange" in _formgrader_command()
    assert "autograde/exchange/" in (ROOT / ".gitignore").read_text()
