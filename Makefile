# Hadron developer commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: help venv install compile lint typecheck test unit unit-pure bench demo audit clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

venv:  ## create .venv from scratch, install hadron with its test extras, compile the hot modules
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
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

audit:  ## pip-audit the installed (locked) dependencies; fails on a known vulnerability
	$(BIN)/pip install --quiet pip-audit
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip --progress-spinner off --format json --output audit.json || true
	$(BIN)/python -c "import json,sys; d=json.load(open('audit.json')); v=[(x['name'],x['version'],[y['id'] for y in x['vulns']]) for x in d['dependencies'] if x.get('vulns')]; s=sum(1 for x in d['dependencies'] if x.get('skip_reason')); print('pip-audit:', len(d['dependencies']), 'dependencies,', len(d['dependencies'])-s, 'audited,', s, 'not known to the vulnerability service,', len(v), 'with known vulnerabilities', v); sys.exit(1 if v else 0)"

bench:  ## hadron bench replay on the real Kalshi capture in ../shared/data
	$(BIN)/hadron bench replay

clean:  ## remove the venv and caches
	-$(BIN)/python -m hadron.accel clean
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
