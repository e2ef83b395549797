"""The README's Layout block is the map a newcomer reads first: it names every module and package."""
from __future__ import annotations

import re
import subprocess

from autograde.course import ROOT

# the folders whose modules and subpackages the block lists one by one
MAPPED = ["course_lib", "course_lib/tasks", "autograde", "autograde/sandbox"]


def layout_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.search(r"^## Layout\n+```\n(.*?)^```", readme, re.S | re.M).group(1)


def named(block: str) -> set[str]:
    """Every name in the block, with a glob such as bench_*.py kept as written."""
    return set(re.findall(r"[\w*.-]+/?", block))


def covered(name: str, names: set[str]) -> bool:
    globs = [pattern for pattern in names if re.fullmatch(r"\w+\*\.py", pattern)]  # such as bench_*.py
    return name in names or any(re.fullmatch(glob.replace(".", r"\.").replace("*", r"\w*"), name) for glob in globs)


def ignored(path) -> bool:
    """Whether git ignores ``path``: nbgrader's working folders that `make demo` leaves in autograde/."""
    return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0


def test_the_layout_block_names_every_module_and_package():
    names = named(layout_block())
    missing = []
    for folder in MAPPED:
        for path in sorted((ROOT / folder).iterdir()):
            if path.name.startswith(("_", ".")) or ignored(path):
                continue
            entry = path.name + "/" if path.is_dir() else path.name
            if (path.is_dir() or path.suffix == ".py") and not covered(entry, names):
                missing.append(f"{folder}/{entry}")
    assert not missing, f"README's Layout block does not name: {missing}"


def test_the_layout_block_names_nothing_that_is_gone():
    block = layout_block()
    files = {name for name in named(block) if name.endswith(".py") and "*" not in name}
    present = {path.name for path in ROOT.rglob("*.py") if ".venv" not in path.parts}
    assert files <= present, f"README's Layout block names files that do not exist: {sorted(files - present)}"
