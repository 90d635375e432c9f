# `make test` and `make demo` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: venv test test-fast lint demo bench samples wheel clean

venv: $(STAMP)

# Re-installs only when the requirements or the package metadata change.
$(STAMP): requirements.txt setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -e ".[dev,notebooks]"
	touch $(STAMP)

# Two workers (pytest-xdist; a file stays on one worker, so module fixtures are built once),
# one TensorFlow thread each (tests/conftest.py): most of a test's
# time is single-threaded tracing, so two workers finish the suite sooner than one.
# The longest files first, in this order (xdist's default order is by test count, which left
# the longest files to one worker at the end): the two workers take them in turn.
SLOW_TESTS := tests/test_replicas_8.py tests/test_notebooks.py tests/test_replicas.py \
	tests/test_workers.py tests/test_cli.py tests/test_xla_matrix.py tests/test_real_inputs.py \
	tests/test_fault_injection.py tests/test_benchmarks.py tests/test_distribute.py \
	tests/test_sweeps.py
TEST_FILES := $(SLOW_TESTS) $(filter-out $(SLOW_TESTS),$(sort $(wildcard tests/test_*.py)))

test: venv
	$(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder $(TEST_FILES)

# The inner loop: every test file but the slow ones (whole recipes on several replicas and
# workers, notebooks, the CLI matrix, XLA, fault injection, sweeps), under 5 minutes here.
FAST_TESTS := $(filter-out $(SLOW_TESTS) tests/test_sweeps.py tests/test_resume.py \
	tests/test_survival.py tests/test_buckets.py tests/test_user_path.py,$(TEST_FILES))
test-fast: venv
	$(PY) -m pytest -q -n 2 --dist loadfile $(FAST_TESTS)

# ruff: pyflakes, pycodestyle, import order, bugbear, pyupgrade, and the formatter's check
# (settings in pyproject.toml). `ruff format .` and `ruff check --fix .` repair most of it.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

demo: venv
	$(VENV)/bin/ganpaint demo --out outputs/demo

bench: venv
	$(PY) -m benchmarks --out benchmarks/results

samples: venv
	$(PY) scripts/make_samples.py

# dist/ganpaint-<version>-py3-none-any.whl, samples included (Kaggle offline: attach it as a
# dataset, then `pip install --no-deps /kaggle/input/<dataset>/ganpaint-*.whl`).
wheel: venv
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

clean:
	rm -rf $(VENV) outputs benchmarks/results .pytest_cache dist build
