# The two commands: `make run` and `make test`. Both set up .venv and check PostgreSQL and RabbitMQ.
PY := .venv/bin/python

.PHONY: venv browser run migrate test unit

venv:
	@./scripts/bootstrap

browser:
	@./scripts/browser

run: venv
	@$(PY) -m ops.preflight
	@$(PY) -m ops.run

migrate: venv
	@$(PY) -m ops.preflight
	@$(PY) -m ops.migrate

test: venv browser
	@$(PY) -m ops.preflight --management
	@$(PY) -m pytest $(PYTEST_ARGS)

unit: venv
	@$(PY) -m pytest tests/unit $(PYTEST_ARGS)
