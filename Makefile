# Two commands set everything up on a fresh machine: `make run` and `make test`.
# Installs are keyed on stamp files newer than pyproject.toml, so a second call installs nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# This machine's pip config lists local indexes that may be absent; their warnings are noise.
PIP = $(PY) -m pip --disable-pip-version-check -q
QUIET_PIP = 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-test train evaluate bench clean

run: $(VENV)/.installed-run
	HOST=$(HOST) PORT=$(PORT) $(PY) -m game_server serve

test: $(VENV)/.installed-test
	$(PY) -m pytest

# The composer: retrain from scratch (needs Debian's mma for the drum grooves), evaluate, benchmark.
train: $(VENV)/.installed-train
	$(PY) -m models.train all

evaluate: $(VENV)/.installed-train
	$(PY) -m models.evaluate

bench: $(VENV)/.installed-test
	$(PY) bench/composer.py
	$(PY) bench/music.py

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(PY)
	$(PIP) install -e . $(QUIET_PIP)
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	$(PIP) install -e '.[test]' $(QUIET_PIP)
	touch $@

$(VENV)/.installed-train: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -e '.[test,train]' $(QUIET_PIP)
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
