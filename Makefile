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

.PHONY: test test-all appendix lint bench clean install mutate

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PYTEST) -m "not slow" -q

test-all: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(PYTEST) -q

appendix: $(STAMP)
	$(PY) -m theorems appendix --out $(OUT) --profile $(PROFILE) --seed $(SEED)

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
