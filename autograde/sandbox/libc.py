"""The Linux calls the standard library does not wrap, through ctypes: mounts, namespaces, prctl, capabilities.

Every call that fails raises OSError with its errno, except ``prctl``, whose result the
caller reads (PR_CAPBSET_DROP fails past the kernel's last capability, and that ends a loop).
The warm kernel server (zygote.py) builds each kernel's view with these; lifetime.py's
``die_with_parent`` is a prctl too.
"""
from __future__ import annotations

import ctypes
import fcntl
import os
import struct

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NAME, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 15, 38
LAST_CAP = 63  # PR_CAPBSET_DROP fails with EINVAL past the kernel's last capability: stop there
CAPABILITY_VERSION_3 = 0x20080522
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 1
IFREQ = "16sH14x"  # struct ifreq with its flags: the interface's name, ifr_flags, padding

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]


def _check(what: str, result: int) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _b(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def mount(source: str | None, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None):
    _check(f"mount {target}", _libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)))


def unmount(target: str) -> None:
    """Detach ``target`` now (MNT_DETACH: whatever still uses it keeps it until it lets go)."""
    _check(f"umount {target}", _libc.umount2(_b(target), MNT_DETACH))


def unshare(flags: int) -> None:
    _check("unshare", _libc.unshare(flags))


def prctl(option: int, value: int = 0) -> int:
    return _libc.prctl(option, value, 0, 0, 0)


def set_no_new_privs() -> None:
    _check("no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1))


def set_name(name: str) -> None:
    """What ps and /proc/self/comm show for this process."""
    buffer = ctypes.create_string_buffer(name.encode())
    prctl(PR_SET_NAME, ctypes.addressof(buffer))


def drop_bounding_set() -> None:
    """No capability can be gained again, by exec or otherwise (the process's own go with its root uid)."""
    for cap in range(LAST_CAP + 1):
        if prctl(PR_CAPBSET_DROP, cap) != 0:
            break


def clear_capabilities() -> None:
    """Effective, permitted and inheritable capabilities: none."""
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)  # this process
    _check("capset", _libc.capset(header, (ctypes.c_uint32 * 6)()))


def interface_up(name: str) -> None:
    """Bring up a network interface (SIOCSIFFLAGS with IFF_UP), as bwrap does for the loopback."""
    import socket  # here: lifetime.py imports this module for every kernel launcher (sandbox/protocol.py)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack(IFREQ, fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack(IFREQ, name.encode(), 0)))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack(IFREQ, name.encode(), flags | IFF_UP))
