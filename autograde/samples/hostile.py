"""Faulty and hostile submissions of task (a), for grading a whole class in one batch (tests/test_batch.py).

Each case is the reference submission with one fault of issue 5's list: code in an
answer cell that attacks the grader or its machine, an edited notebook layout, or a
broken file. Code attacks run *before* the reference answer in their cell, so the
honest answers still count wherever the kernel survives them. ``Case.lost`` names the
graded cells that must earn nothing, ``Case.notes`` phrases the feedback must show.

Probes print ``BLOCKED <what>`` when the sandbox stops them and ``LEAK <what>`` when
it does not, so a test sees both that they ran and that they failed. Their targets
(the course's gradebook, solutions, another student's folder, the environment, the
repository, a listening port) come from the test through ``targets``.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
from nbformat.v4 import new_code_cell, new_output

from . import write_submission

NOTEBOOK = "a_vanishing_gradient.ipynb"
ALL = ("*",)  # every graded cell is lost

PROBE = '''import os, socket
for what, path in TARGETS["read"]:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path, "rb").read(1)
        print("LEAK read", what)
    except OSError:
        print("BLOCKED read", what)
for what, path in TARGETS["write"]:
    try:
        open(os.path.join(path, "pwned") if os.path.isdir(path) else path, "ab").close()
        print("LEAK write", what)
    except OSError:
        print("BLOCKED write", what)
for what, port in TARGETS["ports"]:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            # an empty namespace's loopback may connect a socket to itself (TCP self-connect): no one reached
            reached = s.getpeername() != s.getsockname()
        print("LEAK connect" if reached else "BLOCKED connect", what)
    except OSError:
        print("BLOCKED connect", what)
print("LEAK secret" if any("SECRET" in k for k in os.environ) else "BLOCKED secret")
'''

KILL_PARENT = '''import os, signal
for what, pid in (("parent", os.getppid()), ("init", 1)):
    try:
        os.kill(pid, signal.SIGKILL)
        print("LEAK kill", what)
    except OSError:
        print("BLOCKED kill", what)
'''

OUTLIVE = '''import os, subprocess, time
subprocess.Popen(["sleep", "1000"], start_new_session=True)
if os.fork() == 0:  # a daemon: double fork, new session
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
'''

FORK_BOMB = '''import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(1000)
            os._exit(0)
        children += 1
except OSError:
    print("fork refused after", children, "children")
'''

IGNORE_SIGINT = '''import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
'''

C_SLEEP = '''import ctypes
ctypes.CDLL(None).sleep({seconds})
'''

MEMORY = '''hog = b"x" * (8 * 2**30)
'''

FLOOD = '''while True:
    print("x" * 1000)
'''

# Messages sent with the kernel's own session: comms, and frames that are not the JSON they claim to be.
COMM_FLOOD = '''from ipykernel.comm import Comm
flood = Comm(target_name="flood", data={})
for _ in range(40):                       # 400 MiB, far past the output limit
    flood.send(data={}, buffers=[b"x" * (10 * 2**20)])
'''

RAW_DISPLAY = '''def send_raw_display(content: bytes):
    kernel = get_ipython().kernel
    session = kernel.session
    header = session.msg_header("display_data")
    frames = [session.pack(header), session.pack(kernel.get_parent()["header"]), b"{{}}", content]
    kernel.iopub_socket.send_multipart([b"display_data", b"<IDS|MSG>", session.sign(frames), *frames])
send_raw_display({content})
import time
time.sleep(2)
'''

# a1's hand-in gets a display id; the a2 cell then rewrites a1's payload with an empty one
TAG_A1_PAYLOAD = '''import IPython.display as _shown
_display = _shown.display
_shown.display = lambda *objs, **kw: _display(*objs, display_id="graded-a1", **kw)
'''

REWRITE_A1_PAYLOAD = '''import IPython.display as _shown
from course_lib.answers import display_data as _display_data
_shown.display = _display
_shown.update_display(_display_data("a1", {}), display_id="graded-a1", raw=True)
'''

# numerically exact (1.0 in float64), and SymPy computes a power of 10^61 digits when it builds it
POWER_BOMB = '''_bomb = sp.Pow(sp.Rational(10**59, 10**59 + 1), 10**59, evaluate=False)
_honest = dh_dw
def dh_dw(n, i):
    return sp.Mul(_honest(n, i), _bomb, evaluate=False)
'''


@dataclass(frozen=True)
class Case:
    cells: dict[str, str] = field(default_factory=dict)  # answer cell -> code run before its reference answer
    after: dict[str, str] = field(default_factory=dict)  # answer cell -> code run after its reference answer
    layout: Callable | None = None                        # edits the notebook (nbformat object)
    file: Callable | None = None                          # edits the written submission folder
    lost: tuple[str, ...] = ()                            # graded cells that earn nothing
    notes: tuple[str, ...] = ()                           # phrases the feedback must show


def _index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _delete(grade_id):
    def edit(nb):
        del nb.cells[_index(nb, grade_id)]
    return edit


def _duplicate(grade_id):
    def edit(nb):
        i = _index(nb, grade_id)
        twin = copy.deepcopy(nb.cells[i])
        twin.id = twin.id[:-1] + "x"
        nb.cells.insert(i + 1, twin)
    return edit


def _move_above(grade_id, above):
    def edit(nb):
        cell = nb.cells.pop(_index(nb, grade_id))
        nb.cells.insert(_index(nb, above), cell)
    return edit


def _set(target, **changes):
    def edit(nb):
        cell = nb.cells[_index(nb, target)]
        if "source" in changes:
            cell.source = changes["source"]
        cell.metadata.nbgrader.update({k: v for k, v in changes.items() if k != "source"})
    return edit


def _sleepy_cells(count: int, seconds: int):
    """``count`` extra cells after a1's answer, each sleeping ``seconds`` in C: no cell is too long, all are."""
    def edit(nb):
        at = _index(nb, "a1_answer") + 1
        nb.cells[at:at] = [new_code_cell(C_SLEEP.format(seconds=seconds)) for _ in range(count)]
    return edit


def _huge_output(nb):
    """A stored output that fills most of what a notebook may hold (c.SubmissionLimits.notebook_bytes)."""
    nb.cells[_index(nb, "a1_answer")].outputs = [new_output("stream", name="stdout", text="x" * (16 * 2**20))]


def _truncate(folder: Path):
    path = folder / NOTEBOOK
    path.write_bytes(path.read_bytes()[:5000])


def _latin1_comment(folder: Path):
    """One byte that is not UTF-8 (é in Latin-1), in a comment of an answer."""
    path = folder / NOTEBOOK
    path.write_bytes(path.read_bytes().replace(b"def dh_dw(n, i):", b"def dh_dw(n, i):  # caf\xe9", 1))


def _remove(folder: Path):
    (folder / NOTEBOOK).unlink()


def _extra(folder: Path):
    (folder / "Untitled.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))


def _rename(folder: Path):
    (folder / NOTEBOOK).rename(folder / NOTEBOOK.replace(".ipynb", " (1).ipynb"))


def cases(cell_seconds: int) -> dict[str, Case]:
    """The cases, for a course whose cells may run ``cell_seconds`` each and whose notebook
    budget is under three of them (see tests/test_batch.py)."""
    return {
        # the machine: files, network, the grader's secret, processes
        "hostile_probe": Case(cells={"a1_answer": "TARGETS = {targets}\n" + PROBE}),
        "hostile_kill_parent": Case(cells={"a1_answer": KILL_PARENT}),
        "hostile_outlive": Case(cells={"a1_answer": OUTLIVE}),
        "hostile_fork_bomb": Case(cells={"a1_answer": FORK_BOMB}, notes=("processes at once",)),
        # the limits: time, memory, output
        "hostile_ignore_sigint": Case(cells={"a2_answer": IGNORE_SIGINT}, lost=("a2",),
                                      notes=(f"exceeded the {cell_seconds} s limit and could not be interrupted",)),
        "hostile_loop": Case(cells={"a2_answer": "while True:\n    pass\n"}, lost=("a2",),
                             notes=(f"exceeded the {cell_seconds} s limit and was interrupted",)),
        "hostile_sleep_in_c": Case(layout=_sleepy_cells(3, cell_seconds - 1), lost=("a1", "a2"),
                                   notes=("used up its time budget",)),
        "hostile_memory": Case(cells={"a2_answer": MEMORY}, lost=("a2",), notes=("ran out of memory",)),
        "hostile_print_flood": Case(cells={"a2_answer": FLOOD}, lost=("a2",), notes=("output passed its limit",)),
        # the grader's own process: messages and answer data it must not believe
        **message_cases(),
        # the notebook's cells
        "fault_deleted_test_cell": Case(layout=_delete("a1"), notes=("test cell `a1` had been deleted",)),
        "fault_duplicated_answer": Case(layout=_duplicate("a1_answer"), notes=("`a1_answer` appeared 2 times",)),
        "fault_moved_test_cell": Case(layout=_move_above("a1", "a1_answer"), notes=("cells had been moved",)),
        "fault_edited_test_cell": Case(layout=_set("a1", source="print('full marks, please')"),
                                       notes=("test cell `a1` restored: it had been edited",)),
        "fault_changed_grade_id": Case(layout=_set("a1", grade_id="a1_mine"),
                                       notes=("unknown grade id `a1_mine`", "test cell `a1` had been deleted")),
        "fault_changed_points": Case(layout=_set("a1", points=100), notes=("the points of `a1` were changed",)),
        "fault_huge_output": Case(layout=_huge_output),
        # the notebook files
        "fault_corrupt_json": Case(file=_truncate, lost=ALL, notes=("could not be read",)),
        "fault_not_utf8": Case(file=_latin1_comment, notes=("not valid UTF-8",)),
        "fault_missing_notebook": Case(file=_remove, lost=ALL, notes=("was not handed in",)),
        "fault_extra_notebook": Case(file=_extra, notes=("`Untitled.ipynb` is not part of",)),
        "fault_renamed_notebook": Case(file=_rename, notes=("handed in as",)),
    }


def message_cases() -> dict[str, Case]:
    """Attacks on the grader through kernel messages and answer data (issue 8), in the a2 answer cell
    (after a1 was handed in) or in a1's answer."""
    return {
        "hostile_comm_flood": Case(cells={"a2_answer": COMM_FLOOD}, lost=("a2",), notes=("output passed its limit",)),
        "hostile_broken_json": Case(cells={"a2_answer": RAW_DISPLAY.format(content=repr(b'{"data": {"text/plain"'))},
                                    lost=("a2",), notes=("kernel sent a malformed message",)),
        "hostile_deep_json": Case(cells={"a2_answer": RAW_DISPLAY.format(
                                      content='b\'{"data": {"text/plain": \' + b"[" * 100_000 + b"]" * 100_000 + b"}}"')},
                                  lost=("a2",), notes=("kernel sent a malformed message",)),
        "hostile_rewrite_payload": Case(cells={"a1_answer": TAG_A1_PAYLOAD, "a2_answer": REWRITE_A1_PAYLOAD},
                                        notes=("tried to change the output of cell",)),
        "hostile_power_bomb": Case(after={"a1_answer": POWER_BOMB}, lost=("a1",), notes=("powers whose product",)),
    }


# Task (c), each answer then replaced by a numerically exact form SymPy or the graph check would never finish:
# a loss graph of 40 nodes each feeding every later one (2^37 paths), a shape, a derivation step and the
# bonus's byte count with their base nested five times under exponents of 64, handed in unevaluated.
C_NOTEBOOK = "c_mlp_jacobians.ipynb"
_NESTED = '''def _nested(base):
    for _ in range(5):
        base = sp.Pow(base, 64, evaluate=False)
    return base
'''
C_BOMBS = {
    "c1_answer": '''loss_graph = Graph()
_names = ["x", "y"]
for _name in _names:
    loss_graph.input(_name)
for _k in range(37):
    _names.append(f"z{_k + 1}")
    loss_graph.op(_names[-1], "op", *_names[:-1], d=[None if t == "y" else J(_names[-1], t) for t in _names[:-1]])
loss_graph.op("L", "op", *_names, d=[None if t == "y" else J("L", t) for t in _names])
''',
    "c2_answer": _NESTED + '''chains["factors"]["J_z1(x)"] = ((_nested(n0), n0), chains["factors"]["J_z1(x)"][1])
''',
    "c3_answer": _NESTED + '''derivations["tanh"] = [_nested(sp.tanh(u))]
''',
    "bonus_answer": _NESTED + '''bonus["bytes"] = _nested(n0)
''',
}


def write_c_bombs(release_dir: Path, source_dir: Path, out_dir: Path) -> None:
    """The reference submission with task (c)'s answers replaced by C_BOMBS."""
    write_submission("reference", release_dir, source_dir, out_dir)
    path = out_dir / C_NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    for grade_id, bomb in C_BOMBS.items():
        nb.cells[_index(nb, grade_id)].source += "\n" + bomb
    nbformat.write(nb, path)


def write_case(case: Case, release_dir: Path, source_dir: Path, out_dir: Path, targets: dict) -> None:
    """Write the reference submission with ``case``'s fault into ``out_dir``."""
    write_submission("reference", release_dir, source_dir, out_dir)
    path = out_dir / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    for grade_id, attack in case.cells.items():
        cell = nb.cells[_index(nb, grade_id)]
        cell.source = attack.replace("{targets}", repr(targets)) + "\n" + cell.source
    for grade_id, attack in case.after.items():
        cell = nb.cells[_index(nb, grade_id)]
        cell.source += "\n" + attack
    if case.layout:
        case.layout(nb)
    nbformat.write(nb, path)
    if case.file:
        case.file(out_dir)


def expected_points(case: Case, graded_cells: dict[str, float]) -> dict[str, float]:
    """Autograded points per graded cell: the reference's, except the lost ones."""
    return {gid: 0.0 if case.lost == ALL or gid in case.lost else points for gid, points in graded_cells.items()}


# --- what a submission folder brings: links, special files, huge notebooks, HTML (issue 8) --------

DUMP_FILES = '''import os
for name in sorted(os.listdir(".")):
    try:
        print("FILE", name, open(name, errors="replace").read(200))
    except OSError as e:
        print("FILE", name, "unreadable:", e)
'''

# HTML that would run in a browser opening the feedback; each marks the page it ran in
SCRIPTS = ['<script>document.title="PWNED"</script>', '<img src=x onerror="document.title=\'PWNED\'">',
           '<a href="javascript:document.title=\'PWNED\'">link</a>']
SHOW_HTML = "from IPython.display import HTML, Markdown, display\n" + "".join(
    f"display(HTML({s!r}))\ndisplay(Markdown({s!r}))\n" for s in SCRIPTS)
CRAFTED_GRADE_ID = "a1`<img src=x onerror=\"document.title='PWNED'\">`"


def _link(name: str, target: str):
    """``name`` in the submission, a symbolic link to ``target`` (relative to the submission folder)."""
    def edit(folder: Path):
        if name == NOTEBOOK:
            (folder / name).unlink()
        (folder / name).symlink_to(target)
    return edit


def _hard_link(name: str, target: str):
    def edit(folder: Path):
        if name == NOTEBOOK:
            (folder / name).unlink()
        os.link((folder / target).resolve(), folder / name)
    return edit


def _fifo(name: str):
    def edit(folder: Path):
        if name == NOTEBOOK:
            (folder / name).unlink()
        os.mkfifo(folder / name)
    return edit


def _padded(folder: Path):
    """A notebook over the 20 MiB limit (a stored output that nbgrader would clear anyway)."""
    path = folder / NOTEBOOK
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "raw", "id": "padding", "metadata": {}, "source": "x" * (25 * 2**20)})
    path.write_text(json.dumps(nb))


def _many_cells(folder: Path):
    """50,000 empty cells after the reference answers, written as plain JSON (nbformat would validate each)."""
    path = folder / NOTEBOOK
    nb = json.loads(path.read_text())
    nb["cells"] += [{"cell_type": "markdown", "id": f"extra-{i}", "metadata": {}, "source": ""} for i in range(50_000)]
    path.write_text(json.dumps(nb))


def _html_everywhere(nb):
    """Scripts in a markdown cell of the student's, in outputs of an answer cell, and in the written answer."""
    nb.cells.insert(_index(nb, "a1_answer"), nbformat.v4.new_markdown_cell("My notes " + " ".join(SCRIPTS)))
    nb.cells[_index(nb, "a2_reasoning")].source = "Because " + " ".join(SCRIPTS)


SECRET = "../../../secret.key"  # from autograde/submitted/<student>/sheet03/
KEYS = "../../../keys/a.py"
GRADEBOOK = "../../../gradebook.db"
SOLUTION = "../../../../solutions/sheet03/" + NOTEBOOK


def file_cases() -> dict[str, Case]:
    """Submissions whose folder brings links, special files, oversized notebooks or HTML; each next to its
    reference answers. Every extra file is listed by a1's answer cell, so a file that reached the kernel shows."""
    dump = {"a1_answer": DUMP_FILES}
    left_out = "was left out: it is a "
    return {
        "link_secret": Case(cells=dump, file=_link("notes.txt", SECRET), notes=(f"notes.txt {left_out}symbolic link",)),
        "link_keys": Case(cells=dump, file=_link("key_a.txt", KEYS), notes=(f"key_a.txt {left_out}symbolic link",)),
        "link_solution": Case(cells=dump, file=_link("sol_a.txt", SOLUTION), notes=("sol_a.txt " + left_out,)),
        "link_gradebook": Case(cells=dump, file=_link("gb.txt", GRADEBOOK), notes=("gb.txt " + left_out,)),
        "link_folder": Case(cells=dump, file=_link("course", "../../.."), notes=("course " + left_out,)),
        "link_notebook": Case(file=_link(NOTEBOOK, SOLUTION), lost=ALL,
                              notes=("could not be read (it is a symbolic link); it was graded as handed out",)),
        "hardlink_secret": Case(cells=dump, file=_hard_link("notes.txt", SECRET), notes=(f"notes.txt {left_out}hard link",)),
        "hardlink_notebook": Case(file=_hard_link(NOTEBOOK, SOLUTION), lost=ALL, notes=("(it is a hard link",)),
        "fifo": Case(cells=dump, file=_fifo("pipe"), notes=(f"pipe {left_out}named pipe",)),
        "fifo_notebook": Case(file=_fifo(NOTEBOOK), lost=ALL, notes=("(it is a named pipe (FIFO))",)),
        "huge_notebook": Case(file=_padded, lost=ALL, notes=("more than the 20.0 MiB a notebook may have",)),
        "many_cells": Case(file=_many_cells, lost=ALL, notes=("cells, more than the 2,000 a notebook may have",)),
        "html_everywhere": Case(cells={"a1_answer": SHOW_HTML}, layout=_html_everywhere),
        "crafted_grade_id": Case(layout=_set("a1", grade_id=CRAFTED_GRADE_ID),
                                 notes=("had the unknown grade id", "test cell `a1` had been deleted")),
    }
