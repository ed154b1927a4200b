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

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

bench: $(STAMP)
	$(VENV)/bin/automl-bench run --suite hd-real --parallel $(PARALLEL) $(ARGS)

# The report test opens the HTML report in headless Chromium (Debian's package; CI runs as
# root on Debian). Installed once, when missing.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(STAMP) $(CHROMIUM)
	$(VENV)/bin/ruff check .
	@AUTOML_BENCH_REQUIRE_BROWSER=1 $(VENV)/bin/python -m pytest $(ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check .
