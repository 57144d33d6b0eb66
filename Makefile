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
# The page's third-party code (socket.io-client, Tone.js) comes from npm, pinned by the lockfile.
NODE_MODULES := web_client/node_modules/.installed
# The browser tests drive Debian's Chromium; it is installed when missing (as root, as CI is).
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install install-test train evaluate bench clean chromium

run: $(VENV)/.installed-run $(NODE_MODULES)
	HOST=$(HOST) PORT=$(PORT) $(PY) -m game_server serve

test: $(VENV)/.installed-test $(NODE_MODULES) chromium
	cd web_client && node --test test/
	$(PY) -m pytest

# The composer: retrain from scratch (needs Debian's mma for the drum grooves), evaluate, benchmark.
train: $(VENV)/.installed-train
	$(PY) -m models.train all

evaluate: $(VENV)/.installed-train
	$(PY) -m models.evaluate

bench: $(VENV)/.installed-test
	$(PY) bench/composer.py
	$(PY) bench/music.py

$(NODE_MODULES): web_client/package.json web_client/package-lock.json
	cd web_client && npm ci --no-audit --no-fund --loglevel=error
	touch $@

chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "could not install chromium: the browser tests will be skipped"

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
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info web_client/node_modules test-artifacts
