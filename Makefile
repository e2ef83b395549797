# Course package for sheet 3. Every target sets up its own virtual environment in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
# nbgrader calls its helpers (alembic) by name, so the venv's bin must be on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: all venv defer-iri-grammars test chromium demo grade doctor release student-bundle formgrader clean intake report grades \
	feedback-archive messages messages-extract messages-update messages-compile

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(MAKE) --no-print-directory defer-iri-grammars
	touch $(STAMP)

# Every Python of the venv (each nbgrader command) runs autograde/defer_iri_grammars.py at start-up:
# jsonschema then no longer compiles ~35 grammars (≈2 CPU s) as nbgrader imports it.
defer-iri-grammars:
	@$(BIN)/python -c "from autograde.defer_iri_grammars import install; install()"

venv: $(STAMP)

## make test — the whole test suite (unit, checker and end-to-end nbgrader tests, the browser test)
test: $(STAMP) chromium
	COURSE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -rs

## make chromium — Debian's chromium for tests/test_browser.py: installed as root, else only reported
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium >/dev/null; } || echo "NOTE: installing chromium failed: the browser test will not run"; \
	else echo "NOTE: $(CHROMIUM) is missing and cannot be installed here (not root or no apt-get):" \
		"the browser test will not run"; fi

## make demo — release, sample submissions, autograde, feedback, export and the grade table
demo: $(STAMP)
	$(BIN)/python -m autograde.demo

## make grade — autograde every submission in autograde/submitted/ (sandboxed, in parallel, resumable),
##              then feedback and autograde/grades.csv. make grade WORKERS=4 FORCE=1 SCHEDULER=tls://host:8786
ASSIGNMENT ?= sheet03
WORKERS    ?= $(shell nproc)
grade: $(STAMP)
	$(BIN)/python -m autograde.batch $(ASSIGNMENT) --workers $(WORKERS) $(if $(FORCE),--force) \
		$(if $(SCHEDULER),--scheduler $(SCHEDULER))

## make intake ARCHIVE=submissions.zip [ROSTER=participants.csv] — a Stud.IP or Moodle submissions archive
##              (zip or folder) into autograde/submitted/, safely; the roster maps folders to user names
intake: $(STAMP)
	$(if $(ARCHIVE),,$(error make intake needs ARCHIVE=<the platform's submissions zip or folder>))
	$(BIN)/python -m autograde.platform.intake "$(ARCHIVE)" $(if $(ROSTER),--roster "$(ROSTER)")

## make report — the class report: points, diagnoses by frequency, blanks, cells failing together, who waits
report: $(STAMP)
	$(BIN)/python -m autograde.report

## make grades — autograde/grades.csv (per task, bonus apart) and the Moodle and Stud.IP files in autograde/export/
grades: $(STAMP)
	$(BIN)/python -m autograde.platform.grades_out $(if $(TITLE),--title "$(TITLE)")

## make feedback-archive — feedback one file per student: Moodle's bulk-upload zip and a folder per student
feedback-archive: $(STAMP)
	$(BIN)/python -m autograde.platform.feedback_archive

## make doctor — what this host gives the kernel sandbox, the backend grading uses, the step to a stronger one
doctor: $(STAMP)
	$(BIN)/python -m autograde.doctor

## make release — regenerate exercises/ from solutions/ after editing a source notebook
release: $(STAMP)
	$(BIN)/python -m autograde.release

## make messages-update — after changing a message in the sources: every .po (German, English) gets the new ids
## make messages-compile — after translating: the .mo files the library reads (committed)
## make messages — what the tests check: every id in both languages, placeholders alike, .mo current
## make messages-extract — the template <locale>/<domain>.pot, for a translation tool
messages-extract messages-update messages-compile: $(STAMP)
	$(BIN)/python -m autograde.catalogue $(@:messages-%=%)
messages: $(STAMP)
	$(BIN)/python -m autograde.catalogue check

## make student-bundle — what students get: release notebooks + course_lib wheel + install note
student-bundle: $(STAMP)
	$(BIN)/python -m autograde.bundle dist/student-bundle

## make formgrader — JupyterLab with nbgrader's formgrader, for manual grading and review.
##                   make formgrader PORT=8890 NO_BROWSER=1 (--allow-root is added only when run as root)
PORT ?= 8888
formgrader: $(STAMP)
	mkdir -p autograde/exchange
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --ServerApp.port=$(PORT) \
		$(if $(NO_BROWSER),--no-browser) $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf dist build *.egg-info autograde/autograded autograde/feedback autograde/grades.csv
