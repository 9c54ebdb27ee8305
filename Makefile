# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo demo-report test test-postgres security reliability lint bench format clean axe

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# axe-core for the accessibility tests (tests/web/survey/test_axe.py), pinned by its lock file
# and installed with the machine's npm into tests/web/axe/node_modules (never a browser).
AXE_DIR := tests/web/axe
AXE := $(AXE_DIR)/node_modules/axe-core/axe.min.js
$(AXE): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund --loglevel=error
	touch $(AXE)

axe: $(AXE)

# The capture platform on SQLite in var/: migrate, build the demo study from the synthetic
# cohort (or keep the one already there; RESET=1 builds it again), print the URL, the demo
# login and the links, then serve, with the background worker (scheduled invitations and
# reminders, e-mail, jobs) alongside. Ctrl-C stops both. E-mailed links use HOST and PORT.
HOST ?= 127.0.0.1
PORT ?= 8000
RESET ?=
WEB_ENV := DEBUG=1 DJANGO_SETTINGS_MODULE=fibrosurvey.web.settings EMAIL_BACKEND=file \
	SITE_URL=http://$(HOST):$(PORT)
run: $(STAMP)
	mkdir -p var
	$(WEB_ENV) $(BIN)/django-admin demo_setup $(if $(RESET),--reset,)
	@echo "Starting the background worker and the web server (Ctrl-C stops both)."
	@$(WEB_ENV) $(BIN)/django-admin worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(WEB_ENV) $(BIN)/django-admin runserver --noreload $(HOST):$(PORT)

# The CLI demo: synthetic cohort -> analysis -> HTML report.
demo-report: $(STAMP)
	$(BIN)/fibrosurvey demo --out out/demo

demo: demo-report

test: $(STAMP) $(AXE)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src/fibrosurvey
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_scoring

clean:
	rm -rf $(VENV) var out .pytest_cache .mypy_cache .ruff_cache $(AXE_DIR)/node_modules

# The database-dependent tests again, against the local PostgreSQL (production path). The
# security suite is left to `make security`, so CI runs each test once per database.
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
SECURITY_TESTS := tests/web/security tests/web/test_access_matrix.py tests/web/api/test_access_matrix.py
test-postgres: $(STAMP) $(AXE)
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest tests/web $(addprefix --ignore=,$(SECURITY_TESTS))

# The hostile-input, privacy and access suites (SECURITY.md says what each one proves), on
# PostgreSQL: the production database is where NUL bytes, locks and triggers behave for real.
security: $(STAMP)
	DATABASE_URL=$(POSTGRES_URL) $(BIN)/pytest $(SECURITY_TESTS)

# Reliability scripts against gunicorn + a scratch PostgreSQL database: a short submission load
# and a worker killed with SIGKILL mid-load. Each exits non-zero if an acknowledged page was
# lost, duplicated or changed. (The PostgreSQL-restart fault, `benchmarks/faults.py
# pg-restart`, interrupts the shared server, so it is run by hand.)
reliability: $(STAMP)
	$(BIN)/python benchmarks/load_submit.py --duration 20 --baseline-duration 5
	$(BIN)/python benchmarks/faults.py worker-kill
