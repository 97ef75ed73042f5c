# Hadron developer commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# the venv is rebuilt only when the lock file or pyproject.toml changes (or it is missing)
STAMP  := $(VENV)/.hadron-lock-stamp

.PHONY: help venv install compile compiled lint typecheck test unit unit-pure wheel bench demo audit lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

venv: $(STAMP)  ## .venv with every dependency from requirements.lock (hashes checked), hadron editable, hot modules compiled; reused while the lock is unchanged

$(STAMP): requirements.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	$(MAKE) --no-print-directory compile
	touch $(STAMP)

compile:  ## compile the hot modules with Cython in place (a developer's build; without a C compiler: one warning, pure Python)
	$(BIN)/python -m hadron.accel build
	@$(BIN)/python -m hadron.accel status | tail -n 1

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

test: venv compile compiled lint typecheck unit  ## what CI runs: venv (fresh on a clean clone), hot modules compiled, ruff, mypy --strict, pytest (compiled, then pure unit tests)

compiled:  ## fail unless every hot module is compiled (make test needs both builds)
	@$(BIN)/python -m hadron.accel status --require > /dev/null || (echo "the hot modules are not compiled: install gcc and the Python headers (python3-dev), then make compile" && exit 1)

demo: venv  ## run the demo (loopback venues, runtime, dashboard) from the venv; ARGS="--duration 60"
	$(BIN)/hadron demo $(ARGS)

wheel: venv  ## the sdist and the wheel (hot modules compiled; pure Python without a C compiler) into dist/
	$(BIN)/hatchling build -d dist

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
