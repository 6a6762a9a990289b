# Shared by the course's Makefile and the learner's (learner/Makefile; `make release` copies
# this file with it): the virtualenv, the engine and the clean-up. Every target creates
# .venv/ and installs the project into it on first use; later runs reuse it (the stamp
# file is only remade when pyproject.toml or requirements.lock changes).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := app,lessons,dev
# (EXTRAS= installs the grader alone: what grading a class's exercises needs.)
# nbgrader runs `alembic` and `jupyter` from PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# JupyterLab with nbgrader's Validate button and none of its instructor tools.
LEARNER_MODE := JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/learner

# requirements.lock pins every package, for every platform: what pip installs is what
# CI and the grading workflow install, so the grader gives the same verdict everywhere.
LOCK := requirements.lock

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	@touch $(STAMP)

engine: $(STAMP) ## Make sure a Docker engine answers and python:3.11-slim exists (installs/starts them if needed)
	$(BIN)/grader engine up

clean-engine: $(STAMP) ## Remove every container, volume, network and image the grader left behind
	$(BIN)/grader engine sweep --all
