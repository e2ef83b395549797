"""The sandbox every student kernel runs in while a notebook is autograded.

A submission is code from someone else. Its kernel therefore runs as an unprivileged
user of its own (or, without root, in a user namespace of its own), in namespaces of
its own (bubblewrap): it sees only the read-only Python runtime, a copy of its working
folder and a private /tmp; it has no network and its own process tree; the operating
system bounds its memory, its processes and its wall time (cgroups where the host
gives them, else per-process limits; a deadline), and ends every process it started
when its notebook is done. The grader stays outside and only reads the kernel's messages.

* settings.py  — the limits, set in nbgrader_config.py as ``c.Sandbox.*``;
* box.py       — one kernel's sandbox folder, from its creation to its removal;
* cgroups.py   — the memory and process limits of one kernel (cgroup v1, v2, or none);
* host.py      — what this host gives, for `make doctor` and for the reason grading stops;
* view.py      — what a kernel sees, described once (mounts, namespaces, environment), and bwrap's line for it;
* launcher.py  — the kernel launcher: starts the kernel (asks the warm kernel server, else cold), keeps the deadline;
* warm.py      — the grader's side of the warm kernel server: start it, name it to the launchers;
* zygote.py    — the warm kernel server itself: forks each kernel into the view's namespaces and mounts;
* protocol.py  — what the launcher and the warm kernel server say on its socket: the table and its codec;
* libc.py      — the Linux calls Python does not wrap (mount, unshare, prctl, capset), through ctypes;
* kernels/     — the ``course-sandbox`` kernelspec whose argv is the launcher.

The autograde step ExecuteInSandbox (autograde/steps) picks this kernelspec.

This package imports none of its modules: the launcher, started for every notebook,
imports only what it runs, and not settings.py's traitlets (import Sandbox from there).
"""
