# The two commands: `make test` and `make appendix`. Each creates .venv and installs the
# project (with its test extra) when needed, so on a fresh machine they are all the set-up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= full
SEED ?= 0
OUT ?= appendix
# Two workers: the machine has two cores. Unset CI's own hypothesis profile choice: ours is `ci`.
PYTEST := $(PY) -m pytest -n 2 -p no:cacheprovider

.PHONY: test test-all appendix sweep lint bench clean install mutate

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# --claims: every registered claim (and its controls) runs as a test item claim[ID]
# (theorems/pytest_plugin.py); -p loads the plugin even before the entry point is installed.
CLAIMS := -p theorems.pytest_plugin --claims

test: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PYTEST) $(CLAIMS) -m "not slow" -q

test-all: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PYTEST) $(CLAIMS) -q

appendix: $(STAMP)
	$(PY) -m theorems appendix --out $(OUT) --profile $(PROFILE) --seed $(SEED)

sweep: $(STAMP)
	$(PY) -m theorems sweep --seeds $${SEEDS:-0:20} --profile $${SWEEP_PROFILE:-fast} --json sweep.json

lint: $(STAMP)
	$(PY) -m ruff check .

# Mutation testing (not part of `make test`): mutmut, forkserver isolation, one module at a time,
# each against the tests that import it (mutation/run.py). MUTATE_ARGS=numerics/rates.py for one.
MUTATE_ARGS ?= --all
mutate: $(STAMP)
	$(PY) mutation/run.py $(MUTATE_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .hypothesis .pytest_cache $(OUT)
