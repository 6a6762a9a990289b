# Every target creates .venv/ and installs the project into it on first use;
# later runs reuse it (the stamp file is only remade when pyproject.toml changes).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := app,lessons,dev

.DEFAULT_GOAL := help
.PHONY: help grade test test-fast lint format engine lab bench clean-engine

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

engine: $(STAMP) ## Make sure a Docker engine answers and python:3.11-slim exists (installs/starts them if needed)
	$(BIN)/grader engine up

grade: engine ## Grade the reference solution of the model-api exercise and print the feedback
	$(BIN)/grader check solutions/model-api --exercise model-api

test: engine ## Run lint and the whole test suite, Docker tests included
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

test-fast: $(STAMP) ## Run lint and the tests that need no Docker engine
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not docker"

format: $(STAMP) ## Reformat the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lab: engine ## Open JupyterLab on the lessons, with the nbgrader extension
	cd lessons && ../$(BIN)/jupyter lab

bench: engine ## Time grader check against the bare docker CLI, cold and warm
	$(BIN)/python benchmarks/grade_vs_docker.py

clean-engine: $(STAMP) ## Remove every container, volume, network and image the grader left behind
	$(BIN)/grader engine sweep --all
