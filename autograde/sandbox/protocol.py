"""What the launcher (launcher.WarmKernel) and the warm kernel server (zygote.py) say on its unix socket.

One connection per kernel, its messages in this order; on the server's side the
connection belongs to C, the process forked for that kernel (zygote.py):

    step  sender    message  on the socket                          meaning
    1     launcher  STDERR   the byte b"K", and by SCM_RIGHTS one fd  the write end of a pipe: the kernel's stderr
    2     launcher  REQUEST  one JSON object (Request's fields), \\n  which kernel to start, and how
    3     C         PID      C's pid in decimal, \\n                  put this process into the kernel's cgroups
    4     launcher  GO       b"go\\n"                                it is in them: build the view, start the kernel
    5     C         EXIT     the kernel's exit code in decimal, \\n   the kernel has ended
    any   launcher  hang up  shutdown(SHUT_WR), or the launcher dies end the kernel now (C kills its namespace)

A connection that ends before a message is expected raises HungUp: C then starts
nothing, and the launcher takes a missing EXIT as KILLED. Everything is encoded and
decoded here, by ``Channel``.
"""
from __future__ import annotations

import _socket
import array
import collections

from . import plain_json

# _socket, not socket: socket.py adds enums and selectors to what the launcher imports for every notebook,
# and a Channel needs only the socket object's own calls (the launcher makes its connection with _socket too).

STDERR, REQUEST, PID, GO, EXIT = "STDERR", "REQUEST", "PID", "GO", "EXIT"
STDERR_BYTE = b"K"
GO_LINE = b"go"
END = b"\n"
KILLED = -9  # the exit code a launcher reports when C went without sending EXIT


class HungUp(OSError):
    """The other side closed the connection before the message expected from it."""


# REQUEST's fields, a named tuple (not a dataclass: see view.Mount):
#   box              the kernel's sandbox folder, created by the grader (box.py); its home/ and ipc/ are the kernel's
#   env              the kernel's environment (view.kernel_env), with the grader's variables a kernel gets
#   args             ipykernel's arguments after the connection file
#   uid              the kernel's user (box.kernel_uid)
#   rlimits          RLIMIT_<name> -> value (settings.Sandbox.rlimits)
#   user_namespaces  the host lets unprivileged users make them, so the kernel must be kept from it
Request = collections.namedtuple("Request", "box env args uid rlimits user_namespaces")


def _go(line: bytes) -> bool:
    if line != GO_LINE:
        raise HungUp(f"expected {GO_LINE!r}, got {line[:40]!r}")
    return True


# message -> (value -> line, line -> value), the line without END
LINES = {
    REQUEST: (lambda request: plain_json.dumps(request._asdict()).encode(),
              lambda line: Request(**plain_json.loads(line))),
    PID: (lambda pid: str(pid).encode(), int),
    GO: (lambda _: GO_LINE, _go),
    EXIT: (lambda code: str(code).encode(), int),
}


class Channel:
    """One connection, either side of it."""

    def __init__(self, connection: _socket.socket):
        self.socket = connection
        # the socket's own file, unbuffered: nothing read ahead of a message (makefile is socket.py's)
        self.stream = open(connection.fileno(), "r+b", buffering=0, closefd=False)

    def send_stderr(self, fd: int) -> None:
        self.socket.sendmsg([STDERR_BYTE], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array.array("i", [fd]))])

    def receive_stderr(self) -> int:
        import socket  # here: the server's side, which has it loaded
        data, fds, _, _ = socket.recv_fds(self.socket, 1, 1)
        if data != STDERR_BYTE or len(fds) != 1:
            raise HungUp(f"expected {STDERR} with one file descriptor")
        return fds[0]

    def send(self, message: str, value=None) -> None:
        encode, _ = LINES[message]
        self.stream.write(encode(value) + END)

    def receive(self, message: str):
        line = self.stream.readline()
        if not line.endswith(END):
            raise HungUp(f"the connection ended before {message}")
        _, decode = LINES[message]
        return decode(line[:-len(END)])

    def hang_up(self) -> None:
        try:
            self.socket.shutdown(_socket.SHUT_WR)
        except OSError:
            pass  # already gone
