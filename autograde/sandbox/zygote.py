"""The warm kernel server: one interpreter that has imported what every kernel needs, forking a kernel per notebook.

Starting a kernel from a fresh interpreter spends much of its time importing
ipykernel, NumPy, SymPy, matplotlib and course_lib (README, "Measured": a task-(a)
submission costs the batch 1.3 CPU s with warm kernels, 2.1 stock). This server imports them once, inside a sandbox of its own
(warm.py starts it with bwrap: read-only runtime, no network, no grader
environment, never any student code), and then, for each kernel a launcher asks
for, forks three processes:

    zygote (root)  ->  C (root, outside the kernel's namespaces; joins its cgroups, talks to the launcher)
                         ->  init (root, pid 1 of the new PID namespace; reaps)
                               ->  kernel (the kernel's own user, no privileges; runs ipykernel)

C asks for the kernel's view (view.kernel_view, the description a cold kernel's
bwrap command line is made from), enters its namespaces and swaps the server's own
mounts for the kernel's (``replace_mounts``): its home, its ipc/ folder, private
tmpfs; every other sandbox folder, this server's code and its socket are unmounted
before the kernel starts. init mounts the kernel's /proc. The kernel sets the
per-process limits it was given, drops to its user, enters a user namespace of its
own in which no further one can be made (what bwrap's --disable-userns does for a
cold kernel), and keeps no capabilities and ``no_new_privs``. When the launcher
goes (the grader ended the kernel, or died), C kills init, and with it the namespace.

This runs inside the sandbox, where of the autograde package only autograde/sandbox/
is mounted (under SERVER_ROOT; no keys, no secret), so it imports only that, the
standard library and what it preloads. What it says on its socket is protocol.py's table.
"""
from __future__ import annotations

import copy
import functools
import gc
import io
import logging
import operator
import os
import random
import resource
import select
import signal
import socket
import sys
import traceback

from . import libc, protocol, view
from .box import Box

SERVER_ROOT = "/run/course-zygote"  # the server's code: autograde/__init__.py and autograde/sandbox/ (warm.py)
STAGING = "/run/course-staging"  # where C holds what it moves while it swaps the mounts: a tmpfs of each kernel's
# ipykernel.debugger (debugpy) and IPython.terminal.interactiveshell (prompt_toolkit, which SymPy's
# init_printing imports) would otherwise be 0.3 CPU s of every kernel's start; IPython's magics, inspector, pdb and
# storemagic, zmq's zero-copy sends and SymPy's sets are what a kernel's start and the sheet's cells import besides;
# numpy.random, which NumPy imports lazily, every kernel reseeds (_kernel)
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython.terminal.interactiveshell",
           "IPython.core.magics.execution", "IPython.core.oinspect", "IPython.core.completerlib",
           "IPython.core.debugger", "IPython.core.logger", "IPython.extensions.storemagic", "IPython.lib.latextools",
           "tornado.platform.asyncio", "tracemalloc", "zmq.utils.garbage", "sympy.sets.setexpr",
           "numpy", "numpy.random", "sympy", "matplotlib.pyplot", "matplotlib_inline.backend_inline", "networkx")
FROM_SERVER = (view.RO_BIND, view.SYMLINK, view.DEV)  # the kinds of mount a warm kernel keeps from the server's view
PRELOADED_ENV: dict[str, str] = {}  # what the preloaded imports set in os.environ, as they do in a cold kernel
# This server's own modules, named once before it forks any kernel (each kernel drops them): looking for them
# in every kernel would touch every name in sys.modules, a page copied from the server for each one touched
OWN_MODULES: list[str] = []
KERNEL_ARGS = ("--matplotlib=inline",)  # what every warm kernel's ipykernel is given after its connection file
GRADED_ARGS = ("--HistoryManager.enabled=False",)  # what the grader adds (ExecuteInSandbox): parsed once, here


def preload() -> None:
    """Import and warm up what kernels use, so that every fork starts with it (and the GC leaves it shared)."""
    import importlib
    import pkgutil

    import course_lib
    from jupyter_client import localinterfaces
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's warning, on import, about frozen modules
    for name in PRELOAD:
        importlib.import_module(name)
    del os.environ["PYDEVD_DISABLE_FILE_VALIDATION"]
    _log_only_what_is_shown()  # (ipykernel's own work, for every kernel: changed once, here)
    _signatures_read_once()
    _no_module_list_for_a_debugger()
    _arguments_parsed_once()
    _cell_names_hashed_in_blocks()
    _cells_transformed_once()
    localinterfaces.localhost()  # every kernel's ipykernel asks; psutil answers once for all
    from matplotlib.backends.registry import backend_registry
    backend_registry.list_all()  # --matplotlib=inline's check reads every package's entry points: once, here
    for module in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        importlib.import_module(module.name)
    from course_lib.i18n import COURSE_LIB, LANGUAGES
    for language in LANGUAGES:  # the message catalogues, read once
        COURSE_LIB.translations(language)
    import sympy
    from matplotlib.figure import Figure
    sympy.latex(sympy.Symbol("x") ** 2)  # the LaTeX printer, as a notebook's first expression shows
    figure = Figure()
    figure.subplots().plot([0, 1], label="$x^2$")
    figure.savefig(io.BytesIO(), format="png")  # fonts, mathtext and the Agg renderer
    gc.collect()
    gc.freeze()


def serve(path: str) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o600)
    server.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernels' C processes are reaped by the system
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _exit_with(_run_kernel, conn)
        conn.close()


def _exit_with(work, *args) -> None:
    """Run ``work`` in a forked process, then end the process: it never returns into the stack it was forked in."""
    code = 1
    try:
        code = work(*args)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.__stderr__.flush()  # (not the kernel's sys.stderr: ipykernel's stream waits for a thread that is gone)
        os._exit(code)


def _run_kernel(connection: socket.socket) -> int:
    """C: receive the request, wait to be put into the kernel's cgroups, build the namespaces, watch the kernel."""
    channel = protocol.Channel(connection)
    try:
        stderr = channel.receive_stderr()
        request = channel.receive(protocol.REQUEST)
        channel.send(protocol.PID, os.getpid())
        channel.receive(protocol.GO)
    except protocol.HungUp:
        return 1  # the launcher gave up before the kernel started
    box = Box(request.box)
    kernel = view.kernel_view(str(box.home), str(box.ipc), request.env)
    libc.unshare(functools.reduce(operator.or_, (view.NAMESPACES[name][1] for name in kernel.namespaces)))
    libc.interface_up(view.LOOPBACK)
    own = [mount for mount in kernel.mounts if mount.kind not in FROM_SERVER]
    replace_mounts([mount for mount in own if mount.kind != view.PROC])
    init = os.fork()
    if init == 0:
        _exit_with(_init, request, kernel, stderr)
    os.close(stderr)
    # (no threads after unshare(CLONE_NEWPID): the kernel allows none, so one select for both events)
    if connection in select.select([connection, os.pidfd_open(init)], [], [])[0]:
        os.kill(init, signal.SIGKILL)  # the launcher hung up (it ended the kernel, or died): end the namespace
    _, status = os.waitpid(init, 0)
    try:
        channel.send(protocol.EXIT, os.waitstatus_to_exitcode(status))
    except OSError:
        pass  # nobody is listening any more
    return 0


def mount_points() -> list[str]:
    """This mount namespace's mount points, in the order they were made (/proc/self/mountinfo's fifth field)."""
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4].replace("\\040", " ") for line in f]


def replace_mounts(own: list[view.Mount]) -> None:
    """In C's new mount namespace: unmount what is the server's alone, mount ``own`` (BIND and TMPFS) instead.

    The server's are every mount but "/", /proc and the system's (view.system_mounts), and those where
    the kernel gets a new tmpfs. The binds' sources (in the graders' temp folder, which is the server's)
    and the parts of the read-only runtime under an unmounted folder (a checkout under /tmp, say) are
    moved aside into STAGING first, then onto their targets. /run, which holds STAGING, comes last.
    """
    system = [mount.target for mount in view.system_mounts()]
    fresh = [mount for mount in own if mount.kind == view.TMPFS]
    binds = [mount for mount in own if mount.kind == view.BIND]
    libc.mount(None, "/", None, libc.MS_REC | libc.MS_PRIVATE)
    servers = [target for target in mount_points() if target != "/" and not _under(target, "/proc") and
               (target in {m.target for m in fresh} or not any(_under(target, s) for s in system))]
    libc.mount("tmpfs", STAGING, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, "mode=0700")
    for n, mount in enumerate(binds):
        os.mkdir(f"{STAGING}/bind-{n}")
        libc.mount(mount.source, f"{STAGING}/bind-{n}", None, libc.MS_BIND | libc.MS_REC)
    covered = [path for path in view.outermost(system) if any(_under(path, s) and path != s for s in servers)]
    for n, path in enumerate(covered):
        os.mkdir(f"{STAGING}/runtime-{n}")
        libc.mount(path, f"{STAGING}/runtime-{n}", None, libc.MS_MOVE)
    for target in reversed(servers):
        if os.path.ismount(target):  # (not if it went with one above it)
            libc.unmount(target)
    last = [mount for mount in fresh if _under(STAGING, mount.target)]
    for mount in [mount for mount in fresh if mount not in last]:
        _tmpfs(mount)
    for n, path in enumerate(covered):
        os.makedirs(path, mode=0o755, exist_ok=True)
        libc.mount(f"{STAGING}/runtime-{n}", path, None, libc.MS_MOVE)
    for n, mount in enumerate(binds):
        os.makedirs(mount.target, mode=0o755, exist_ok=True)
        libc.mount(f"{STAGING}/bind-{n}", mount.target, None, libc.MS_MOVE)
    libc.unmount(STAGING)
    for mount in last:
        _tmpfs(mount)


def _tmpfs(mount: view.Mount) -> None:
    os.makedirs(mount.target, mode=0o755, exist_ok=True)
    libc.mount("tmpfs", mount.target, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, f"mode={mount.mode}")


def _under(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def _mount_proc(target: str) -> None:
    """The PID namespace's own /proc, with the parts bwrap covers read-only covered the same way."""
    libc.unmount(target)
    locked = libc.MS_NOSUID | libc.MS_NODEV | libc.MS_NOEXEC
    libc.mount("proc", target, "proc", locked)
    for name in view.PROC_COVERED:
        path = f"{target}/{name}"
        if os.access(path, os.W_OK):
            libc.mount(path, path, None, libc.MS_BIND | libc.MS_REC)
            libc.mount(None, path, None, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | locked)


def _init(request: protocol.Request, kernel: view.View, stderr: int) -> int:
    """Pid 1 of the kernel's namespace: a /proc of its own, then start the kernel and reap until it ends."""
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    for mount in kernel.mounts:
        if mount.kind == view.PROC:
            _mount_proc(mount.target)
    pid = os.fork()
    if pid == 0:
        _exit_with(_kernel, request, kernel, stderr)
    os.close(stderr)
    while True:
        child, status = os.wait()
        if child == pid:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


def _no_user_namespaces(uid: int) -> None:
    """Enter a user namespace of our own (``uid`` mapped to itself) and allow none inside it.

    Its creator holds every capability in it, CAP_SYS_RESOURCE included, so it can set the
    namespace's user.max_user_namespaces to 0, then drop them all for good.
    """
    libc.unshare(libc.CLONE_NEWUSER)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    libc.drop_bounding_set()
    libc.clear_capabilities()


def _kernel(request: protocol.Request, kernel: view.View, stderr: int) -> int:
    """Become the student's kernel: own session, own user, no privileges, fresh random state; run ipykernel."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd, target in ((devnull, 0), (devnull, 1), (stderr, 2)):
        os.dup2(fd, target)
    os.closerange(3, 65536)
    os.chdir(kernel.workdir)
    os.environ.clear()
    os.environ.update({**PRELOADED_ENV, **kernel.env})
    for name, value in request.rlimits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))
    libc.drop_bounding_set()
    uid = request.uid
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    libc.prctl(libc.PR_SET_DUMPABLE, 1)  # as after an exec: its /proc entries belong to its user, as a cold kernel's do
    if request.user_namespaces:  # (where unprivileged users cannot make them, the kernel cannot either)
        _no_user_namespaces(uid)
    libc.set_no_new_privs()
    libc.set_name("course-kernel")  # what ps shows
    random.seed()
    sys.modules["numpy"].random.seed()
    # pyplot was imported before any shell existed, so the inline backend never registered its PNG
    # formatter: a figure would show as "<Figure size …>". --matplotlib=inline registers it at start.
    sys.argv = ["ipykernel_launcher", "-f", f"{request.box}/ipc/connection.json", *KERNEL_ARGS, *request.args]
    for name in OWN_MODULES:
        del sys.modules[name]  # this server's code: a cold kernel cannot import it either
    _start_ipykernel()
    return 0


def _start_ipykernel() -> None:
    """ipykernel's launch_instance, with output streams that flush only what was written and course_lib's
    graded-run switch once the shell exists: it was imported here before any shell, so in a graded run its
    figures would still be rendered (graded_run.py)."""
    from ipykernel.kernelapp import IPKernelApp

    from course_lib import graded_run
    _flush_only_what_was_written()
    app = IPKernelApp.instance()
    app.initialize()
    graded_run.configure()
    _IPYTHONS_OWN.append(_transformers(app.shell))
    app.start()


class _NoModules:
    """sys as IPythonKernel.__init__ sees it in a warm kernel (_no_module_list_for_a_debugger): without modules."""
    modules: dict = {}

    def __getattr__(self, name):
        return getattr(sys, name)


def _no_module_list_for_a_debugger() -> None:
    """IPythonKernel.__init__ lists the file of every loaded module for its debugger, which a graded kernel never
    uses (kernel.json: no debugger). Reading 1,800 modules touches their pages and their file names', each a
    page the fork then copies: 3,000 copies, 12 ms of every kernel's start. So it sees a sys without modules."""
    from ipykernel import ipkernel
    init = ipkernel.IPythonKernel.__init__

    @functools.wraps(init)
    def init_seeing_no_modules(kernel, **kwargs):
        ipkernel.sys = _NoModules()
        try:
            init(kernel, **kwargs)
        finally:
            ipkernel.sys = sys
    ipkernel.IPythonKernel.__init__ = init_seeing_no_modules


def _log_only_what_is_shown() -> None:
    """traitlets sets an application's logger to DEBUG and leaves the level to its console handler, so each of
    ipykernel's debug lines (several a message) builds a log record only to drop it. Give the logger the
    handler's level (the app's log_level, WARNING unless its arguments say otherwise): what is shown is the same."""
    from ipykernel.kernelapp import IPKernelApp
    default_config = IPKernelApp.get_default_logging_config

    def config_at_log_level(app):
        config = default_config(app)
        for logger in config.get("loggers", {}).values():
            logger["level"] = logging.getLevelName(app.log_level)
        return config
    IPKernelApp.get_default_logging_config = config_at_log_level


def _arguments_parsed_once() -> None:
    """traitlets parses a kernel's arguments with an argparse parser it builds from every configurable class's
    aliases and flags: ≈6 ms of every kernel's start, for arguments that are the same in every graded kernel but
    the connection file's path. Parse them once here; a kernel given other arguments parses its own."""
    from ipykernel.kernelapp import IPKernelApp
    from traitlets.config.loader import KVArgParseConfigLoader
    parse = IPKernelApp.parse_command_line
    app = IPKernelApp()  # (given no config and asked for no log: it configures no logging here)
    placeholder, args = "connection.json", [*KERNEL_ARGS, *GRADED_ARGS]
    flags, aliases = app.flatten_flags()
    classes = list(app._classes_with_config_traits())
    loader = KVArgParseConfigLoader(["-f", placeholder, *args], aliases, flags, classes=classes,
                                    log=logging.getLogger(__name__), subcommands=app.subcommands)
    parsed = loader.load_config()
    if loader.extra_args or parsed.IPKernelApp.get("connection_file") != placeholder:
        return  # (not what this expects: every kernel parses its own)
    known = {tuple(args): parsed}

    def parse_known(app, argv=None):
        """traitlets' parse_command_line for arguments parsed before; any others, by traitlets itself."""
        argv = sys.argv[1:] if argv is None else list(argv)
        path, rest = (argv[1], tuple(argv[2:])) if len(argv) >= 2 and argv[0] == "-f" else ("-", None)
        config = None if path.startswith("-") else known.get(rest)
        if config is None:
            return parse(app, argv)
        app.argv = argv
        app.cli_config = copy.deepcopy(config)
        app.cli_config.IPKernelApp.connection_file = path
        app.update_config(app.cli_config)
        app.extra_args = []
    IPKernelApp.parse_command_line = parse_known


def _cell_names_hashed_in_blocks() -> None:
    """ipykernel names the file of each cell's code by a murmur2 hash of the cell (the name its code objects and
    the debugger see), computed byte by byte in Python: ≈0.4 ms a cell of a few kilobytes. The same hash, with
    its 4-byte blocks mixed by NumPy and only the chain through them in Python."""
    import numpy
    from ipykernel import compiler

    def murmur2_x86(data: str, seed: int) -> int:
        m, raw = 0x5BD1E995, data.encode("utf8")
        length = len(raw)
        end = length & ~3
        k = numpy.frombuffer(raw, dtype="<u4", count=end // 4) * numpy.uint32(m)  # (uint32: wraps as & 0xFFFFFFFF)
        k ^= k >> 24
        k *= numpy.uint32(m)
        h = seed ^ length
        for block in k.tolist():
            h = ((h * m) & 0xFFFFFFFF) ^ block
        if end < length:
            h = ((h ^ int.from_bytes(raw[end:], "little")) * m) & 0xFFFFFFFF
        h = ((h ^ (h >> 13)) * m) & 0xFFFFFFFF
        return h ^ (h >> 15)
    compiler.murmur2_x86 = murmur2_x86


_IPYTHONS_OWN: list[tuple] = []  # the shell's input transformers as it started (_cells_transformed_once)


def _transformers(shell) -> tuple:
    """What transforms a cell's text before it runs: its input transformers, prefilter checkers and handlers."""
    manager, prefilter = shell.input_transformer_manager, shell.prefilter_manager
    return (tuple(manager.cleanup_transforms), tuple(manager.line_transforms), tuple(manager.token_transformers),
            tuple(shell.input_transformers_post), tuple(prefilter.transformers), tuple(prefilter.checkers),
            tuple(prefilter.handlers.items()))


def _cells_transformed_once() -> None:
    """ipykernel's do_execute transforms each cell (IPython's input transformers: magics, `!` commands) to see how to
    run it, then InteractiveShell.run_cell transforms it again: ≈0.5 ms of a cell of some lines. No code of the
    notebook runs between the two, and IPython's own transformers give the same text from the same text without
    other effects, so while only they are in place (no autocall, whose lookups may run a property) the second takes
    the first's result. A notebook that adds a transformer of its own has it run twice, as IPython does."""
    from IPython.core.interactiveshell import InteractiveShell
    from ipykernel.ipkernel import IPythonKernel
    transform, execute = InteractiveShell.transform_cell, IPythonKernel.do_execute

    @functools.wraps(execute)
    async def do_execute(kernel, code, *args, **kwargs):
        shell = vars(kernel.shell)
        shell["_course_to_transform"] = code  # (the next transform, if it is of this very text, is remembered)
        try:
            return await execute(kernel, code, *args, **kwargs)
        finally:
            shell["_course_to_transform"] = shell["_course_transformed"] = None

    @functools.wraps(transform)
    def transform_cell(shell, raw_cell):
        state = vars(shell)
        remembered, state["_course_transformed"] = state.get("_course_transformed"), None
        if remembered is not None and remembered[0] is raw_cell:
            return remembered[1]
        wanted, state["_course_to_transform"] = state.get("_course_to_transform"), None
        cell = transform(shell, raw_cell)
        if wanted is raw_cell and not shell.autocall and _transformers(shell) in _IPYTHONS_OWN:
            state["_course_transformed"] = (raw_cell, cell)
        return cell
    IPythonKernel.do_execute = do_execute
    InteractiveShell.transform_cell = transform_cell


def _signatures_read_once() -> None:
    """ipykernel asks inspect for run_cell's signature at every cell, to learn whether it takes cell_id and
    cell_meta: the same answer every time for the same method, so ask once for each."""
    from ipykernel import ipkernel
    accepts = ipkernel._accepts_parameters
    accepts_once = functools.cache(lambda method, names: accepts(method, list(names)))
    ipkernel._accepts_parameters = lambda method, names: dict(accepts_once(method, tuple(names)))


def _flush_only_what_was_written() -> None:
    """ipykernel flushes stdout and stderr several times a cell, and each flush waits for a round trip through
    its I/O thread even when nothing was written: about a millisecond of an empty cell's three or four.
    Skip the wait then: whatever the I/O thread still sends is queued before the messages after it."""
    from ipykernel.iostream import OutStream
    flush = OutStream.flush

    def flush_written(stream):
        if getattr(stream, "_buffers", True) or getattr(stream, "_subprocess_flush_pending", True) or stream.echo:
            flush(stream)  # (the attributes are ipykernel's own: without them, every flush)
    OutStream.flush = flush_written


if __name__ == "__main__":
    before = dict(os.environ)
    preload()
    PRELOADED_ENV.update((k, v) for k, v in os.environ.items() if before.get(k) != v)
    OWN_MODULES.extend(name for name in sys.modules if name.partition(".")[0] == "autograde")
    serve(sys.argv[1])
