# Hadron developer commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: help venv install compile lint typecheck test unit unit-pure bench demo audit lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

venv:  ## create .venv from scratch: every dependency from requirements.lock (hashes checked), hadron itself (no deps), the hot modules compiled
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	$(MAKE) --no-print-directory compile

compile:  ## compile the hot modules with Cython in place (hadron.accel; the .py files stay the fallback)
	$(BIN)/python -m hadron.accel build
	$(BIN)/python -m hadron.accel status

install: venv  ## same as venv

lint:  ## ruff over the package, tests and benchmarks
	$(BIN)/ruff check hadron tests bench
	$(BIN)/ruff format --check hadron tests bench

typecheck:  ## mypy --strict over the package
	$(BIN)/mypy --strict hadron

unit:  ## pytest only (assumes the venv exists), then the unit tests again on the pure-Python modules
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory unit-pure

unit-pure:  ## the unit tests with HADRON_PURE=1 (compiled hot modules ignored)
	HADRON_PURE=1 $(BIN)/pytest -q -p no:cacheprovider tests/unit

test: venv lint typecheck unit  ## what CI runs: fresh venv (hot modules compiled), ruff, mypy --strict, pytest (compiled, then pure unit tests)

demo: venv  ## install, then run the demo (loopback venues, runtime, dashboard); ARGS="--duration 60"
	$(BIN)/hadron demo $(ARGS)

audit:  ## pip-audit requirements.lock; fails on a known vulnerability, and when the service audited nothing unless HADRON_AUDIT_OFFLINE_OK=1
	$(BIN)/pip install --quiet pip-audit
	rm -f audit.json
	$(BIN)/pip-audit --requirement requirements.lock --require-hashes --no-deps --disable-pip --progress-spinner off --format json --output audit.json || true
	$(BIN)/python tests/audit_verdict.py audit.json requirements.lock

lock:  ## regenerate requirements.lock with uv (pip install uv): the same pins, the sha256 of every file of each; UPGRADE=1 moves them to the newest allowed
	cp requirements.lock .requirements.lock.prev
	printf 'hatchling>=1.24\neditables\npip\n' | uv pip compile pyproject.toml - --extra test --generate-hashes --no-annotate \
		--python-version 3.11 --custom-compile-command 'make lock' $(if $(UPGRADE),,-c .requirements.lock.prev) -o requirements.lock
	rm -f .requirements.lock.prev

bench:  ## hadron bench replay on the real Kalshi capture in ../shared/data
	$(BIN)/hadron bench replay

clean:  ## remove the venv and caches
	-$(BIN)/python -m hadron.accel clean
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
