# The two commands a newcomer runs: `make demo` and `make test`. Both build .venv
# themselves from the hash-pinned requirements, with nothing but python3 and make.
# The demo installs only what it runs (the action's requirements); the tests, the linters and type
# checker too.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
DEMO_INSTALLED := $(VENV)/.demo-installed
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps
WORKFLOWS := $(wildcard .github/workflows/*.yml examples/*.yml)
ISSUE_FORMS := $(filter-out %/config.yml,$(wildcard .github/ISSUE_TEMPLATE/*.yml))

.PHONY: demo test lint typecheck pytest bench month release-rehearsal clean

$(VENV)/bin/python:
	@echo "Creating a virtual environment in $(VENV) with $$($(PYTHON) --version) ..."
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt requirements-dev.txt | $(VENV)/bin/python
	@echo "Installing the action's requirements and the test, lint and type-check tools (hash-pinned) ..."
	$(PIP_INSTALL) -r requirements.txt -r requirements-dev.txt
	touch $@ $(DEMO_INSTALLED)

$(DEMO_INSTALLED): requirements.txt | $(VENV)/bin/python
	@echo "Installing what the demo runs, the action's own requirements: requests, pydantic and PyYAML (hash-pinned) ..."
	$(PIP_INSTALL) -r requirements.txt
	touch $@

demo: $(DEMO_INSTALLED)
	@$(BIN)/python -m tests.support.demo

test: lint typecheck pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint --failure-threshold info Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema custom.github-workflows-require-timeout $(WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-issue-forms $(ISSUE_FORMS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-issue-config .github/ISSUE_TEMPLATE/config.yml
	$(BIN)/zizmor --offline --quiet --config .github/zizmor.yml $(WORKFLOWS) action.yml

typecheck: $(INSTALLED)
	$(BIN)/mypy

pytest: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(INSTALLED)
	$(BIN)/python -m tests.support.bench

# A month of a busy repository (tests/support/simulation.py): seeded histories of every layout, the action
# run as a process at each of its steps against a model of GitHub; prints how many events were wrong.
HISTORIES ?= 600
SEED ?= 2026
month: $(INSTALLED)
	$(BIN)/python -m tests.support.simulation $(HISTORIES) $(SEED)

# The release script against a registry on 127.0.0.1:$(REGISTRY_PORT), which
# ../shared/container/local-registry.sh starts on these machines (elsewhere:
# docker run -d -p 127.0.0.1:$(REGISTRY_PORT):5000 registry:2).
REGISTRY_PORT ?= 5000
release-rehearsal: $(INSTALLED)
	@if [ -f ../shared/container/local-registry.sh ]; then \
		REGISTRY_PORT=$(REGISTRY_PORT) bash ../shared/container/local-registry.sh >/dev/null; fi
	REGISTRY=127.0.0.1:$(REGISTRY_PORT) $(BIN)/python -m tests.support.rehearsal

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist
