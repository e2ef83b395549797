"""Grading a whole class: `python -m autograde.batch sheet03 --workers 2` (make grade).

Every submission under autograde/submitted/ is graded by stock nbgrader, with the
kernel in the sandbox, in parallel jobs on this machine's cores or on a Dask
cluster; one process writes the gradebook, the feedback and grades.csv, so a batch
can be killed at any moment and resumes where it stopped.

* run.py      — the coordinator: what to grade, the progress bar, the one writer;
* workers.py  — where jobs run: local processes, or Dask workers;
* job.py      — one submission's job, run against its own copy of the course;
* intake.py   — unreadable, missing, extra and renamed notebooks, before nbgrader;
* gradebook.py — grades as data between the course's gradebook and the jobs.
"""
