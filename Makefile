# Two commands take a fresh machine to a result (see README):
#   make bench   installs what is needed, then runs the offline default suite (hd-real: real data)
#   make test    installs what is needed, then runs the tests
# Both are idempotent: the virtual environment is rebuilt only when pyproject.toml changes.
PYTHON ?= python3
# parallel job slots for `make bench` (the hd-real suite is sized for 2 on 2 cores)
PARALLEL ?= 2
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: bench test lint install
install: $(STAMP)

# pip prints each package as it comes (a first install takes a few minutes)
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	@# an older .venv has the CUDA build of XGBoost where the CPU-only one now goes: the two
	@# share a folder, so the old one leaves before the new one comes
	if [ "$$(uname -sm)" = "Linux x86_64" ]; then \
	  $(VENV)/bin/python -m pip uninstall --yes --quiet xgboost nvidia-nccl-cu12 2>/dev/null || true; fi
	$(VENV)/bin/python -m pip install --progress-bar off -e '.[test]'
	touch $(STAMP)

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

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	@AUTOML_BENCH_REQUIRE_BROWSER=$$([ "$$CI" = "true" ] && echo 1) $(VENV)/bin/python -m pytest $(ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check .
