"""The course platform (Stud.IP, Moodle) around grading: submissions in, grades and feedback out.

* intake.py           `make intake`: a platform's submissions archive → autograde/submitted/
* roster.py           the platform's participant list: folder → student id, names for nbgrader
* grades_out.py       `make grades`: per-task table, Moodle gradebook import, Stud.IP list
* feedback_archive.py `make feedback-archive`: feedback files for bulk upload, a folder per student
"""
