"""autograde/defer_iri_grammars.py: jsonschema loads without rfc3987_syntax's grammars, and answers as before."""
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

from autograde.course import ROOT
from autograde.defer_iri_grammars import install

PURELIB = sysconfig.get_paths()["purelib"]
IRIS = ["http://example.org/ä", "http://[::1", "no scheme", "urn:isbn:0451450523", "a/b", "%zz", "", "http://x/ y"]
# what jsonschema says of each, and whether the grammars were compiled before the first check
PROBE = f"""
import json, sys
import nbformat, jsonschema
compiled_at_import = "lark" in sys.modules
checker = jsonschema.FormatChecker()
answers = [[checker.conforms(x, kind) for x in {IRIS!r}] for kind in ("iri", "iri-reference")]
print(json.dumps([compiled_at_import, answers]))
"""


def run(setup: str) -> tuple[bool, list]:
    """The probe in a fresh interpreter without site (so without the venv's .pth files), after ``setup``."""
    done = subprocess.run([sys.executable, "-S", "-c", setup + PROBE], capture_output=True, text=True, check=True)
    assert done.stderr == ""
    return json.loads(done.stdout)


def test_importing_autograde_first_defers_the_grammars_and_the_answers_stay():
    lazy, answers = run(f"import sys; sys.path[:0] = [{str(ROOT)!r}, {PURELIB!r}]; import autograde\n")
    eager, expected = run(f"import sys; sys.path.insert(0, {PURELIB!r})\n")
    assert (lazy, eager) == (False, True)
    assert answers == expected
    assert any(expected[0]) and not all(expected[0])  # the probe tells right from wrong


def test_the_pth_file_defers_them_in_every_python_of_the_environment(tmp_path):
    pth = install(tmp_path)
    lazy, _ = run(f"import site, sys; sys.path.insert(0, {PURELIB!r}); site.addsitedir({str(tmp_path)!r})\n")
    assert lazy is False
    assert pth.parent == tmp_path


def test_the_pth_file_does_nothing_where_the_course_is_gone(tmp_path):
    pth = install(tmp_path)
    pth.write_text(pth.read_text().replace(str(Path(ROOT)), str(tmp_path / "moved")))
    eager, _ = run(f"import site, sys; sys.path.insert(0, {PURELIB!r}); site.addsitedir({str(tmp_path)!r})\n")
    assert eager is True
