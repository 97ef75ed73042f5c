# Hadron developer commands. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: help venv install lint typecheck test unit bench demo audit clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

venv:  ## create .venv from scratch and install hadron with its test extras
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'

install: venv  ## same as venv

lint:  ## ruff over the package, tests and benchmarks
	$(BIN)/ruff check hadron tests bench
	$(BIN)/ruff format --check hadron tests bench

typecheck:  ## mypy --strict over the package
	$(BIN)/mypy --strict hadron

unit:  ## pytest only (assumes the venv exists)
	$(BIN)/pytest -q

test: venv lint typecheck unit  ## what CI runs: fresh venv, ruff, mypy --strict, pytest

demo: venv  ## install, then run the demo (loopback venues, runtime, dashboard); ARGS="--duration 60"
	$(BIN)/hadron demo $(ARGS)

audit:  ## pip-audit the installed (locked) dependencies; fails on a known vulnerability
	$(BIN)/pip install --quiet pip-audit
	$(BIN)/pip-audit --requirement requirements.lock --no-deps --disable-pip --progress-spinner off --format json --output audit.json || true
	$(BIN)/python -c "import json,sys; d=json.load(open('audit.json')); v=[(x['name'],x['version'],[y['id'] for y in x['vulns']]) for x in d['dependencies'] if x.get('vulns')]; s=sum(1 for x in d['dependencies'] if x.get('skip_reason')); print('pip-audit:', len(d['dependencies']), 'dependencies,', len(d['dependencies'])-s, 'audited,', s, 'not known to the vulnerability service,', len(v), 'with known vulnerabilities', v); sys.exit(1 if v else 0)"

bench:  ## hadron bench replay on the real Kalshi capture in ../shared/data
	$(BIN)/hadron bench replay

clean:  ## remove the venv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
