"""`make formgrader`: as root and as an ordinary user, on a chosen port, with the exchange inside the course."""
import os
import pwd
import subprocess

import pytest
from traitlets.config import PyFileConfigLoader

from course import ROOT


def _formgrader_command(*make_args: str, user: str | None = None) -> str:
    prefix = ["runuser", "-u", user, "--"] if user else []
    done = subprocess.run([*prefix, "make", "--no-print-directory", "-n", "-C", str(ROOT), "formgrader", *make_args],
                          capture_output=True, text=True, check=True)
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
