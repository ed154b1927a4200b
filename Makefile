# Two commands take a fresh machine to a result (see README):
#   make bench   installs what a run needs, then runs the offline default suite (hd-real: real data)
#   make test    installs that plus the test tools and the opt-in backends' environments, then
#                runs the linters and the tests (all their data is in the repository)
# Both are idempotent: each install step reruns only when pyproject.toml changes.
PYTHON ?= python3
# parallel job slots for `make bench` (the hd-real suite is sized for 2 on 2 cores)
PARALLEL ?= 2
VENV   := .venv
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# the backends' own environments, which their tests run in: by default one framework per
# environment the framework definitions need (`automl-bench env list --names`); `make test
# ENVS=` builds none (their tests then skip, saying so)
ENVS ?= $(shell $(VENV)/bin/automl-bench env list --names 2>/dev/null)
ENVS_DIR ?= $(CURDIR)/.envs

.PHONY: bench test lint install install-test
install: $(STAMP)
install-test: $(TEST_STAMP)

# what a run needs (the default extra); pip prints each package as it comes (a first
# install takes a few minutes)
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	@# an older .venv has the CUDA build of XGBoost where the CPU-only one now goes: the two
	@# share a folder, so the old one leaves before the new one comes
	if [ "$$(uname -sm)" = "Linux x86_64" ]; then \
	  $(VENV)/bin/python -m pip uninstall --yes --quiet xgboost nvidia-nccl-cu12 2>/dev/null || true; fi
	$(VENV)/bin/python -m pip install --progress-bar off -e '.[default]'
	touch $(STAMP)

# what the tests add: pytest and its plugins, the linters, Dask, MLflow
$(TEST_STAMP): $(STAMP)
	$(VENV)/bin/python -m pip install --progress-bar off -e '.[test]'
	touch $(TEST_STAMP)

# each built once (its own venv under .envs/, a few minutes); a ready one is kept
.PHONY: envs
envs: $(TEST_STAMP)
	$(foreach fw,$(ENVS),AUTOML_BENCH_ENVS=$(ENVS_DIR) $(VENV)/bin/automl-bench env create $(fw) && ) true

bench: $(STAMP)
	$(VENV)/bin/automl-bench run --suite hd-real --parallel $(PARALLEL) $(ARGS)

# The report test opens the HTML report in headless Chromium (Debian's package, without its
# recommended packages). Installing it needs root: CI (CI=true, root on Debian) installs it
# when missing and requires the test; elsewhere the step is skipped and so is that test.
CHROMIUM := /usr/bin/chromium
.PHONY: browser
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$CI" = "true" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium; \
	else \
	  echo "note: Chromium is missing, so the report's browser test is skipped; installing it" \
	       "needs root: apt-get install --no-install-recommends chromium"; \
	fi

# The order is fixed unless asked: make test ARGS="-p randomly --randomly-seed=N" runs it shuffled
# (pytest-randomly; the seed reproduces an order)
test: $(TEST_STAMP) browser envs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	@AUTOML_BENCH_ENVS=$(ENVS_DIR) \
	AUTOML_BENCH_REQUIRE_BROWSER=$$([ "$$CI" = "true" ] && echo 1) $(VENV)/bin/python -m pytest $(ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
