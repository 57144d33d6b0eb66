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

.PHONY: run test test-fast lint install install-test train evaluate bench bench-realtime bench-scaleout soak clean system-packages sound-packages

run: $(VENV)/.installed-run $(NODE_MODULES) sound-packages
	HOST=$(HOST) PORT=$(PORT) $(PY) -m game_server serve

# Two at a time, then the `realtime` tests (a page, a Run or Beat Hunt client on the round's
# clock) one at a time: a Run played at a person's timing must not share its core with a test
# that composes.
test: lint $(NODE_MODULES) system-packages
	cd web_client && node --test test/
	$(PY) -m pytest -m "not realtime" -n 2
	$(PY) -m pytest -m realtime

# The in-process tests only (no server process, browser, Redis or PostgreSQL): about a minute and a half.
test-fast: lint $(NODE_MODULES) sound-packages
	cd web_client && node --test test/
	$(PY) -m pytest -m "not slow" -n 2

# The floors of pyproject.toml's import contracts, and ruff.
lint: $(VENV)/.installed-test
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .

# The composer: retrain from scratch (needs Debian's mma for the drum grooves), evaluate, benchmark.
train: $(VENV)/.installed-train
	$(PY) -m models.train all

evaluate: $(VENV)/.installed-train
	$(PY) -m models.evaluate

bench: $(VENV)/.installed-test sound-packages
	$(PY) -m bench.composer
	$(PY) -m bench.music
	$(PY) -m bench.run_bot
	$(PY) -m bench.render
	$(PY) -m bench.blend
	$(PY) -m bench.story
	$(PY) -m bench.sounds

# The long ones, outside `make test`: a live server under load, Redis scale-out, a soak.
bench-realtime: $(VENV)/.installed-test
	$(PY) bench/realtime.py 500 30 1

bench-scaleout: $(VENV)/.installed-test system-packages
	$(PY) bench/scaleout.py 100 20

soak: $(VENV)/.installed-test
	$(PY) bench/soak.py 5 20

$(NODE_MODULES): web_client/package.json web_client/package-lock.json
	cd web_client && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The tests start real services from Debian's packages: Chromium for the browser tests, Redis and
# PostgreSQL for the scale-out tests; mma renders the drum grooves (tests/test_grooves.py).
# Missing ones are installed (as root, as CI runs).
system-packages: sound-packages
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v mma >/dev/null || missing="$$missing mma"; \
	{ command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then echo "installing Debian packages for the tests:$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
	  || echo "could not install$$missing: the tests that need them will say so and skip"; fi

# The WAV and OGG downloads' sound (music/sampled.py): FluidSynth's library and the General MIDI
# SoundFont it plays, from Debian. Installed when missing; without them those downloads answer 503.
sound-packages:
	@missing=""; \
	ls /usr/lib/*/libfluidsynth.so.3 >/dev/null 2>&1 || missing="$$missing libfluidsynth3"; \
	test -f /usr/share/sounds/sf2/FluidR3_GM.sf2 || missing="$$missing fluid-soundfont-gm"; \
	if [ -n "$$missing" ]; then echo "installing Debian packages for the downloads' sound:$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
	  || echo "could not install$$missing: WAV and OGG downloads will answer 503 synth_unavailable"; fi

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
