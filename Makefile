# joyflow — two commands: `make demo` and `make test`. Everything else is optional.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SIZE ?= 100
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
export PREFECT_HOME ?= $(CURDIR)/var/prefect
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: demo test lint bench setup clean lock pages system-demo system-test

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip==25.3"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

system-demo:
	@scripts/system-packages demo

system-test:
	@scripts/system-packages test

demo: system-demo $(STAMP)
	$(BIN)/joyflow demo --out var/demo
	$(BIN)/joyflow run --network var/demo --backfill
	@# issue 16: a coach recalculates the limits of a change that held; the re-run draws the new phase
	test ! -f var/demo/demo_rebase.args || { $(BIN)/joyflow rebase record $$(cat var/demo/demo_rebase.args) \
	  --reason "Huddles held as planned since the daily huddle was adopted: limits recalculated for the new process" \
	  --by "Demo coach" && $(BIN)/joyflow run --network var/demo; }

test: system-test $(STAMP)
	@mkdir -p "$(PREFECT_HOME)"
	JOYFLOW_TEST_PG_URL="$${JOYFLOW_TEST_PG_URL:-$$(scripts/pg-setup)}" $(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(STAMP)
	JOYFLOW_BENCH_PG_URL="$${JOYFLOW_BENCH_PG_URL:-$$(scripts/pg-setup)}" $(BIN)/python -m bench --size $(SIZE) $(BENCH_ARGS)

pages: $(STAMP)
	$(BIN)/python -m reports.pages var/reports

lock:
	rm -rf /tmp/joyflow-lock && $(PY) -m venv /tmp/joyflow-lock
	/tmp/joyflow-lock/bin/pip install -q -e ".[dev]"
	{ echo "# Full resolved set for a reproducible install (pip install -c constraints.txt). Regenerate: make lock"; \
	  /tmp/joyflow-lock/bin/pip freeze --exclude-editable | grep -v -iE "^(pip|setuptools|wheel)=="; } > constraints.txt

clean:
	rm -rf var/demo var/reports var/warehouse.db var/archive var/quarantine var/runs
