"""The sandbox's descriptions on their own: the kernel's view, the warm kernel server's socket protocol, and
what the launcher imports.

That both kinds of kernel see the same from inside is test_sandbox.py's
test_both_kinds_of_kernel_see_the_same; here, what both are derived from.
"""
import json
import logging
import os
import socket
import subprocess
import sys

import pytest

from autograde.course import ROOT
from autograde.sandbox import protocol, view, warm, zygote
from autograde.sandbox.box import Box

REQUEST = protocol.Request(box="/tmp/course-sandbox-1-x", env={"HOME": view.HOME}, args=["--debug"], uid=2**30 + 1,
                           rlimits={"AS": 2**30}, user_namespaces=True)


def kernel_view(tmp_path) -> view.View:
    box = Box(tmp_path / "course-sandbox-1-x")
    return view.kernel_view(str(box.home), str(box.ipc))


def test_the_cold_kernels_bwrap_line_holds_every_mount_of_the_view(tmp_path):
    kernel = kernel_view(tmp_path)
    argv = view.bwrap_argv(kernel)
    for mount in kernel.mounts:
        words = [f"--{mount.kind}", *((mount.source,) if mount.source is not None else ()), mount.target]
        at = next(i for i in range(len(argv)) if argv[i:i + len(words)] == words)
        if mount.mode:
            assert argv[at - 2:at] == ["--perms", mount.mode], mount
    assert argv[argv.index("--chdir") + 1] == view.WORK
    assert {"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"} <= set(argv)
    assert argv[-1] == "--"


def test_a_warm_kernel_keeps_from_the_server_only_what_the_kernel_view_has_and_makes_the_rest(tmp_path):
    kernel = kernel_view(tmp_path)
    server = warm.server_view(tmp_path / "course-zygote-1-x")
    kept = [m for m in kernel.mounts if m.kind in zygote.FROM_SERVER]
    assert kept and [m for m in kept if m not in server.mounts] == []
    own = [m for m in kernel.mounts if m.kind not in zygote.FROM_SERVER]
    assert {m.kind for m in own} == {view.PROC, view.TMPFS, view.BIND}, "the kinds zygote.py makes"
    assert {m.target for m in own} >= {"/proc", "/tmp", "/dev/shm", "/run", view.HOME}
    assert zygote.STAGING.startswith("/run/") and zygote.SERVER_ROOT.startswith("/run/"), \
        "the server's own folders go under the kernel's fresh /run"
    assert set(server.namespaces) == set(kernel.namespaces) - {"pid"}


def test_a_temp_folder_other_than_tmp_is_private_too(tmp_path):
    own = view.kernel_mounts(f"{tmp_path}/course-sandbox-1-x/home", f"{tmp_path}/course-sandbox-1-x/ipc")
    assert view.Mount(view.TMPFS, str(tmp_path), mode="1777") in own
    assert [m.target for m in view.kernel_mounts("/tmp/b/home", "/tmp/b/ipc")].count("/tmp") == 1


def channel_pair():
    launcher, server = socket.socketpair()
    return protocol.Channel(launcher), protocol.Channel(server)


def test_every_message_of_the_protocol_arrives_as_sent():
    launcher, server = channel_pair()
    read, write = os.pipe()
    launcher.send_stderr(write)
    launcher.send(protocol.REQUEST, REQUEST)
    passed = server.receive_stderr()
    assert server.receive(protocol.REQUEST) == REQUEST
    server.send(protocol.PID, 1234)
    assert launcher.receive(protocol.PID) == 1234
    launcher.send(protocol.GO)
    assert server.receive(protocol.GO) is True
    server.send(protocol.EXIT, -15)
    assert launcher.receive(protocol.EXIT) == -15
    os.write(passed, b"the kernel's stderr")
    assert os.read(read, 100) == b"the kernel's stderr"
    for fd in (read, write, passed):
        os.close(fd)


def test_the_request_line_is_json_with_the_tables_fields():
    launcher, server = channel_pair()
    launcher.send(protocol.REQUEST, REQUEST)
    line = server.stream.readline()
    assert line.endswith(protocol.END)
    assert sorted(json.loads(line)) == sorted(["box", "env", "args", "uid", "rlimits", "user_namespaces"])


def test_a_hang_up_is_told_apart_from_a_message():
    launcher, server = channel_pair()
    launcher.send(protocol.PID, 1)
    launcher.hang_up()
    assert server.receive(protocol.PID) == 1
    with pytest.raises(protocol.HungUp):
        server.receive(protocol.GO)
    launcher, server = channel_pair()
    launcher.stream.write(b"stop\n")
    with pytest.raises(protocol.HungUp, match="expected b'go'"):
        server.receive(protocol.GO)
    launcher.hang_up()
    with pytest.raises(protocol.HungUp):
        server.receive_stderr()


def test_the_protocol_table_names_every_message():
    table = protocol.__doc__
    for message in (protocol.STDERR, protocol.REQUEST, protocol.PID, protocol.GO, protocol.EXIT):
        assert f" {message} " in table
    assert set(protocol.LINES) == {protocol.REQUEST, protocol.PID, protocol.GO, protocol.EXIT}


def test_the_launcher_starts_with_only_what_a_warm_kernel_needs():
    """It starts for every notebook, so its imports are most of its CPU time: none of site, traitlets
    (settings.py), dataclasses, typing, the grader's side of the warm kernel server, nor subprocess and
    tempfile, which only a cold kernel's launcher and the grader use."""
    spec = ROOT / "autograde" / "sandbox" / "kernels" / "course-sandbox"
    argv = json.loads((spec / "kernel.json").read_text())["argv"]
    flags = argv[1:argv.index("{resource_dir}/launch.py")]
    imports = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import autograde.sandbox.launcher; print(*sys.modules)"
    loaded = subprocess.run([sys.executable, *flags, "-c", imports], env={}, capture_output=True, text=True,
                            check=True).stdout.split()
    assert "autograde.sandbox.launcher" in loaded
    assert {"site", "traitlets", "dataclasses", "typing", "autograde.sandbox.settings", "autograde.sandbox.warm",
            "autograde.sandbox.zygote", "subprocess", "tempfile"}.isdisjoint(loaded)


@pytest.mark.parametrize("level", ["WARN", "DEBUG"])
def test_a_warm_kernels_logger_has_the_level_its_app_shows(monkeypatch, level):
    """zygote._log_only_what_is_shown: the logger at the console handler's level, which follows the app's arguments."""
    from ipykernel.kernelapp import IPKernelApp
    monkeypatch.setattr(IPKernelApp, "get_default_logging_config", IPKernelApp.get_default_logging_config)
    zygote._log_only_what_is_shown()
    config = IPKernelApp(log_level=level).get_default_logging_config()
    shown = config["handlers"]["console"]["level"]
    assert logging.getLevelName(shown) == getattr(logging, level)
    assert [logger["level"] for logger in config["loggers"].values()] == [shown]


def test_the_arguments_a_warm_kernel_parsed_before_are_what_traitlets_parses(monkeypatch):
    """zygote._arguments_parsed_once: a graded kernel's arguments, parsed once in the server; any others as before."""
    from ipykernel.kernelapp import IPKernelApp
    from autograde.steps import ExecuteInSandbox
    parse = IPKernelApp.parse_command_line
    monkeypatch.setattr(IPKernelApp, "parse_command_line", parse)
    zygote._arguments_parsed_once()
    assert IPKernelApp.parse_command_line is not parse
    assert ExecuteInSandbox().extra_arguments == list(zygote.GRADED_ARGS)
    for args in (["-f", "/box/ipc/connection.json", *zygote.KERNEL_ARGS, *zygote.GRADED_ARGS],
                 ["-f", "/box/ipc/connection.json", *zygote.KERNEL_ARGS, "--debug"], list(zygote.GRADED_ARGS)):
        once, traitlets = IPKernelApp(), IPKernelApp()
        once.parse_command_line(args)
        parse(traitlets, args)
        assert (once.cli_config, once.config, once.argv, once.extra_args) == (
            traitlets.cli_config, traitlets.config, traitlets.argv, traitlets.extra_args), args


def test_a_warm_kernel_names_a_cells_file_by_ipykernels_hash(monkeypatch):
    """zygote._cell_names_hashed_in_blocks: the same murmur2 as ipykernel's, for every length and encoding."""
    from ipykernel import compiler
    monkeypatch.setattr(compiler, "murmur2_x86", compiler.murmur2_x86)
    stock = compiler.murmur2_x86
    zygote._cell_names_hashed_in_blocks()
    assert compiler.murmur2_x86 is not stock
    texts = ["", "a", "ab", "abc", "abcd", "abcde", "ä", "€ x", "\U0001F600", "def f(a):\n    return a / 0\n" * 40]
    for text in texts + [text[:n] for text in texts for n in range(8)]:
        for seed in (compiler.get_tmp_hash_seed(), 0, 2**32 - 1):
            assert compiler.murmur2_x86(text, seed) == stock(text, seed), (text, seed)
