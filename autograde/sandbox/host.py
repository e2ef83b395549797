"""What this host gives the sandbox: root or not, namespaces, cgroups, bwrap; the backend grading uses; the one
admin step that would give a stronger one. `make doctor` prints it, and Sandbox.check stops with it."""
from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from . import cgroups, view

APPARMOR = Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")  # Ubuntu ≥ 23.10
NOBODY = 65534


def apparmor_restricts() -> bool:
    try:
        return APPARMOR.read_text().strip() == "1"
    except OSError:
        return False


@functools.cache
def user_namespaces_problem() -> str | None:
    """Why an unprivileged process cannot make a kernel's namespaces here (user, mount, PID, network, …), or None.

    As root it is tried as nobody: the kernel's user makes its own user namespace (to forbid further ones).
    """
    bwrap, setpriv = view.tools()
    argv = [bwrap, "--unshare-user", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc", "--", "true"]
    if os.geteuid() == 0:
        argv = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode == 0:
        return None
    reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
    if apparmor_restricts():
        reason += "; AppArmor restricts unprivileged user namespaces"
    return f"unprivileged user namespaces do not work here ({reason})"


def bwrap_version() -> str:
    bwrap, _ = view.tools()
    return subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip() + f" ({bwrap})"


def backend(groups: dict) -> str:
    """One line: how kernels are isolated and bounded with ``groups`` (cgroups.detect)."""
    who = "as root, kernels as users of their own" if os.geteuid() == 0 else "without root, in user namespaces"
    kind = {"v1": "cgroup v1", "v2": f"cgroup v2 in {groups.get('base')}", "none": "no cgroup"}[groups["kind"]]
    weaker = cgroups.uncovered(groups)
    bounds = (f"{' and '.join(groups['controllers'])} by the cgroup" if groups["controllers"] else "") + \
        (("; " if groups["controllers"] else "") + f"{' and '.join(weaker)} per process (weaker)" if weaker else "")
    return f"{who}; {kind}: {bounds}"


def namespaces_step() -> str:
    """The admin step that lets an ordinary user's bwrap make user namespaces."""
    if apparmor_restricts():
        return ("let bwrap make user namespaces: an AppArmor profile for it (/etc/apparmor.d/bwrap: "
                f"`abi <abi/4.0>, include <tunables/global> profile bwrap {view.tools()[0]} flags=(unconfined) "
                "{ userns, }`, then `apparmor_parser -r /etc/apparmor.d/bwrap`), or "
                "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`")
    return "allow unprivileged user namespaces: `sysctl user.max_user_namespaces=15000` (and, on old Debian "\
           "kernels, `sysctl kernel.unprivileged_userns_clone=1`)"


def stronger(groups: dict) -> str:
    """The one admin step that would give this host a stronger backend, or that none is needed."""
    if os.geteuid() != 0 and user_namespaces_problem():
        return namespaces_step()
    if not cgroups.uncovered(groups):
        return "none needed: memory and processes are bounded per kernel by a cgroup"
    if os.geteuid() == 0:
        return ("give the grader's cgroup the memory and pids controllers: boot with the unified hierarchy "
                "(systemd.unified_cgroup_hierarchy=1), or mount the cgroup v1 memory and pids controllers")
    return ("grade in a delegated cgroup: `systemd-run --user --scope -p Delegate=yes make grade`; if memory or "
            "pids are still missing, a drop-in /etc/systemd/system/user@.service.d/delegate.conf with "
            "`[Service]` and `Delegate=memory pids`, then `systemctl daemon-reload` and a new login")


def findings(kind: str = "auto") -> list[tuple[str, str]]:
    """(label, what this host gives) for `make doctor`; cgroups.detect may move this process into a leaf group."""
    v2 = cgroups.v2_own()
    rows = [("root", "yes" if os.geteuid() == 0 else f"no (uid {os.getuid()})")]
    try:
        rows.append(("bwrap", bwrap_version()))
        rows.append(("namespaces", user_namespaces_problem() or "user, mount, PID, network, IPC, UTS: yes"))
    except OSError as e:
        rows.append(("bwrap", str(e)))
    rows.append(("AppArmor", "restricts unprivileged user namespaces" if apparmor_restricts() else "no restriction"))
    rows.append(("cgroup v1", cgroups.v1_problem() or "memory and pids, writable"))
    rows.append(("cgroup v2", f"{v2}: controllers {' '.join(sorted(cgroups.read_words(os.path.join(v2, 'cgroup.controllers')))) or '(none)'}"
                 if v2 else "not mounted"))
    try:
        groups = cgroups.detect(kind)
        rows.append(("backend", backend(groups)))
        rows.append(("stronger", stronger(groups)))
    except OSError as e:
        rows.append(("backend", f"none: {e}"))
    return rows
