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

C gives the new processes namespaces of their own (mount, PID, network with the
loopback up, as bwrap leaves it, IPC, UTS) and a filesystem view like the cold
sandbox's: the runtime read-only, the kernel's home, its ipc/ folder and a private
/tmp; every other sandbox folder and this server's socket are unmounted before the
kernel starts. The kernel sets the per-process limits it was given, drops to its
user, enters a user namespace of its own in which no further one can be made (what
bwrap's --disable-userns does for a cold kernel), and keeps no capabilities and
``no_new_privs``. When the launcher goes (the grader ended the kernel, or died), C
kills init, and with it the namespace.

This file runs inside the sandbox, where the autograde package is not mounted, so
it imports only the standard library and what it preloads.

Protocol on the unix socket, one connection per kernel: the launcher sends one
byte with the write end of a pipe for the kernel's stderr, then a JSON line
{box, env, args, uid, rlimits, user_namespaces}; C answers its pid; the launcher
puts that pid into the kernel's cgroups and sends "go"; C answers the kernel's exit
code when it ends.
"""
from __future__ import annotations

import ctypes
import fcntl
import gc
import io
import json
import os
import random
import resource
import select
import signal
import socket
import struct
import sys
import traceback

STAGING = "/run/course-ipc"  # where C holds the kernel's ipc/ while it replaces the temp folder
PARKING = "/run/course-parking"  # where C holds parts of the runtime that live in a temp folder meanwhile
RUNTIME: list[str] = []  # the read-only runtime's outermost mount points, as warm.py passes them
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "numpy", "sympy", "matplotlib.pyplot",
           "matplotlib_inline.backend_inline", "networkx")

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 1
CAPABILITY_VERSION_3 = 0x20080522
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 8192, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NAME, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 15, 38
LAST_CAP = 63  # PR_CAPBSET_DROP fails with EINVAL past the kernel's last capability: stop there

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.unshare.argtypes = [ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
libc.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]


def _call(what: str, result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _b(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def mount(source: str | None, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None):
    _call(f"mount {target}", libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)))


def unmount(target: str) -> None:
    _call(f"umount {target}", libc.umount2(_b(target), MNT_DETACH))


def prctl(option: int, value: int = 0) -> int:
    return libc.prctl(option, value, 0, 0, 0)


def preload() -> None:
    """Import and warm up what kernels use, so that every fork starts with it (and the GC leaves it shared)."""
    import importlib
    import pkgutil

    import course_lib
    for name in PRELOAD:
        importlib.import_module(name)
    for module in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        importlib.import_module(module.name)
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


def _run_kernel(conn: socket.socket) -> int:
    """C: receive the request, wait to be put into the kernel's cgroups, build the namespaces, watch the kernel."""
    _, fds, _, _ = socket.recv_fds(conn, 1, 1)
    stream = conn.makefile("rwb", buffering=0)
    request = json.loads(stream.readline())
    stream.write(f"{os.getpid()}\n".encode())
    if stream.readline().strip() != b"go":
        return 1
    _call("unshare", libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS))
    _loopback_up()
    _build_view(request["box"], RUNTIME)
    init = os.fork()
    if init == 0:
        _exit_with(_init, request, fds[0])
    os.close(fds[0])
    # (no threads after unshare(CLONE_NEWPID): the kernel allows none, so one select for both events)
    if conn in select.select([conn, os.pidfd_open(init)], [], [])[0]:
        os.kill(init, signal.SIGKILL)  # the launcher hung up (it ended the kernel, or died): end the namespace
    _, status = os.waitpid(init, 0)
    try:
        stream.write(f"{os.waitstatus_to_exitcode(status)}\n".encode())
    except OSError:
        pass  # nobody is listening any more
    return 0


def _loopback_up() -> None:
    """Bring up the new network namespace's loopback interface (SIOCSIFFLAGS), as bwrap does for a cold kernel."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _build_view(box: str, runtime: list[str]) -> None:
    """In the new mount namespace: the kernel's home and ipc/ in place, the shared temp folder replaced.

    Parts of the read-only ``runtime`` that live in the temp folder or /tmp (a checkout under
    /tmp, say) are moved aside while those are replaced, and back onto the private ones.
    """
    temp = os.path.dirname(box)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount(f"{box}/home", os.environ["HOME"], None, MS_BIND | MS_REC)
    mount(f"{box}/ipc", STAGING, None, MS_BIND)
    covered = [path for path in runtime if _under(path, temp) or _under(path, "/tmp")]
    mount("tmpfs", PARKING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700")
    for n, path in enumerate(covered):
        os.mkdir(f"{PARKING}/{n}")
        mount(path, f"{PARKING}/{n}", None, MS_MOVE)
    unmount(temp)  # every other kernel's folder, and this server's socket
    unmount(__file__)
    for private in dict.fromkeys([temp, "/tmp", "/dev/shm"]):
        mount("tmpfs", private, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    for n, path in enumerate(covered):
        os.makedirs(path, mode=0o755)
        mount(f"{PARKING}/{n}", path, None, MS_MOVE)
    unmount(PARKING)
    os.makedirs(f"{box}/ipc", mode=0o755)
    mount(STAGING, f"{box}/ipc", None, MS_BIND)
    unmount(STAGING)


def _under(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def _init(request: dict, stderr: int) -> int:
    """Pid 1 of the kernel's namespace: a /proc of its own, then start the kernel and reap until it ends."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    unmount("/proc")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    kernel = os.fork()
    if kernel == 0:
        _exit_with(_kernel, request, stderr)
    os.close(stderr)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


def _drop_bounding_set() -> None:
    """No capability can be gained again, by exec or otherwise (the process's own go with its root uid)."""
    for cap in range(LAST_CAP + 1):
        if prctl(PR_CAPBSET_DROP, cap) != 0:
            break


def _no_user_namespaces(uid: int) -> None:
    """Enter a user namespace of our own (``uid`` mapped to itself) and allow none inside it.

    Its creator holds every capability in it, CAP_SYS_RESOURCE included, so it can set the
    namespace's user.max_user_namespaces to 0, then drop them all for good.
    """
    _call("unshare user", libc.unshare(CLONE_NEWUSER))
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    _drop_bounding_set()
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)  # then effective, permitted, inheritable: none
    _call("capset", libc.capset(header, (ctypes.c_uint32 * 6)()))


def _kernel(request: dict, stderr: int) -> int:
    """Become the student's kernel: own session, own user, no privileges, fresh random state; run ipykernel."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd, target in ((devnull, 0), (devnull, 1), (stderr, 2)):
        os.dup2(fd, target)
    os.closerange(3, 65536)
    os.chdir(os.path.join(os.environ["HOME"], "work"))
    os.environ.update(request["env"])
    for name, value in request["rlimits"].items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))
    _drop_bounding_set()
    uid = request["uid"]
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_DUMPABLE, 1)  # as after an exec: its /proc entries belong to its user, as a cold kernel's do
    if request["user_namespaces"]:  # (where unprivileged users cannot make them, the kernel cannot either)
        _no_user_namespaces(uid)
    _call("no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1))
    name = ctypes.create_string_buffer(b"course-kernel")  # what ps shows
    prctl(PR_SET_NAME, ctypes.addressof(name))
    random.seed()
    sys.modules["numpy"].random.seed()
    # pyplot was imported before any shell existed, so the inline backend never registered its PNG
    # formatter: a figure would show as "<Figure size …>". --matplotlib=inline registers it at start.
    sys.argv = ["ipykernel_launcher", "-f", f"{request['box']}/ipc/connection.json", "--matplotlib=inline",
                *request["args"]]
    _start_ipykernel()
    return 0


def _start_ipykernel() -> None:
    """ipykernel's launch_instance, with course_lib's graded-run switch once the shell exists: it was
    imported here before any shell, so in a graded run its figures would still be rendered (graded_run.py)."""
    from ipykernel.kernelapp import IPKernelApp

    from course_lib import graded_run
    app = IPKernelApp.instance()
    app.initialize()
    graded_run.configure()
    app.start()


if __name__ == "__main__":
    RUNTIME[:] = sys.argv[2:]
    preload()
    serve(sys.argv[1])
