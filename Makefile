# The two commands: `make run` and `make test`. Both set up .venv and check PostgreSQL and RabbitMQ.
PY := .venv/bin/python

.PHONY: venv browser monitoring-tools web web-api run demo migrate lint test unit test-faults bench lock

venv:
	@./scripts/bootstrap

browser:
	@./scripts/browser

# promtool and prometheus (Debian's): the monitoring profile's files and alerts are tested with them
monitoring-tools:
	@./scripts/monitoring-tools

# requirements.lock and requirements-dev.lock from pyproject.toml and constraints.txt, every file hashed
lock:
	@./scripts/lock

# the web apps: npm ci when the lock changed, a build when a source changed (web/dist, served at /)
web: venv
	@./scripts/web

# after an API change: regenerate the web apps' API document and typed client (commit both)
web-api: venv
	@./scripts/web --update-api

run: venv web
	@$(PY) -m ops.preflight
	@$(PY) -m ops.run

# `make run` with a city's palace loaded through the API, and who to sign in as
demo: venv web
	@$(PY) -m ops.preflight
	@$(PY) -m ops.run --demo

migrate: venv
	@$(PY) -m ops.preflight
	@$(PY) -m ops.migrate

# ruff and vulture (scripts/lint); a finding fails `make test` before any test runs
lint: venv
	@./scripts/lint

test: venv browser monitoring-tools web lint
	@$(PY) -m ops.preflight --management
	@$(PY) -m pytest --ignore=tests/faults $(PYTEST_ARGS)

# kills, cuts and slows real processes; restarts the local RabbitMQ and PostgreSQL
test-faults: venv
	@$(PY) -m ops.preflight --management
	@$(PY) -m pytest tests/faults -s -p no:cacheprovider $(PYTEST_ARGS)

# each scenario checks what it needs first (broker, database, room for its connections, wrk)
bench: venv
	@for s in $$($(PY) -c "from bench.__main__ import scenarios; print(*scenarios())"); do \
		$(PY) -m bench $$s $(BENCH_ARGS) || status=1; done; exit $${status:-0}

unit: venv
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)
