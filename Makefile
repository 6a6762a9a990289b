# The course's targets; the virtualenv, engine and clean-up ones are in make/common.mk.
include make/common.mk

# Engine lanes besides the host's own engine (see tests/conftest.py).
LANES := modern modern-containerd podman

.DEFAULT_GOAL := help
LESSON_NAMES := $(notdir $(wildcard solutions/[0-9][0-9]-*))

.PHONY: help install grade test test-lanes test-fast lint format engine browser lab formgrader lessons gradebook release lock bench clean-engine

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-19s %s\n", $$1, $$2}'

install: $(STAMP) ## Install the course into .venv and nothing else (no engine: e.g. to merge a class's shards)

grade: engine ## Grade the reference solution of the model-api exercise and print the feedback
	$(BIN)/grader check solutions/model-api --exercise model-api

browser: ## Install Debian's Chromium for the browser test, if missing (root with apt)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser test ..."; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; \
	  else echo "chromium is not installed and cannot be installed here: the browser test will fail"; fi; }

# The host's suite first, then the lanes side by side. All four side by side
# (`python -m tests.run_lanes host $(LANES)`) took 50 min cold here against 54, but on two
# cores the load made verdicts that depend on time fail (a HEALTHCHECK's own 3 s timeout,
# the build watchdog's 120 s without CPU): not worth a red CI for four minutes.
# While the host's suite runs, the lanes' root filesystems are debootstrapped (cold, about
# two minutes of waiting for the mirror and the disk that the lanes would otherwise start
# with; kept in the cache for later runs). Its output goes to a log; a failure there is
# the lanes' to report, as they debootstrap again. Ctrl-C stops it too: pytest exits on
# it without dying of it, so the INT trap ends the recipe, and the EXIT trap stops the job
# (a background job ignores SIGINT). Niced: the host suite's verdicts come first.
ROOTFS_LOG := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/docker-ml-course/rootfs.log

test: engine browser ## Lint, the whole suite on the host engine, then the engine-sensitive tests on every lane
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p "$(dir $(ROOTFS_LOG))"; \
	  nice -n 15 $(BIN)/grader engine nested rootfs >"$(ROOTFS_LOG)" 2>&1 & rootfs=$$!; \
	  trap 'kill $$rootfs 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	  echo "$(BIN)/pytest"; $(BIN)/pytest; code=$$?; \
	  wait $$rootfs || echo "Making the lanes' root filesystems failed (see $(ROOTFS_LOG)): the lanes try again."; \
	  trap - EXIT; exit $$code
	$(MAKE) --no-print-directory test-lanes

test-lanes: engine ## The engine-sensitive tests (marker `lanes`) on Docker Engine 26 (overlay2, containerd store) and Podman 5, nested, side by side
	$(BIN)/python -m tests.run_lanes $(LANES)

test-fast: $(STAMP) browser ## Run lint and the tests that need no Docker engine (the report pages' browser test included)
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not docker"

format: $(STAMP) ## Reformat the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# JupyterLab's two modes: a config folder on JUPYTER_CONFIG_PATH (read before the venv's
# own) switches nbgrader's extensions (LEARNER_MODE is in make/common.mk, with the learner's).
INSTRUCTOR_MODE := JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config/instructor

lab: engine ## Open JupyterLab on the lessons as a learner sees it (nbgrader's Validate only)
	$(LEARNER_MODE) $(BIN)/jupyter lab --notebook-dir=lessons $(ROOT_FLAG)

formgrader: engine ## Open JupyterLab on the course root with nbgrader's instructor tools (Formgrader, Create Assignment)
	$(INSTRUCTOR_MODE) $(BIN)/jupyter lab --notebook-dir=. $(ROOT_FLAG)

lessons: $(STAMP) ## Regenerate the learner notebooks in lessons/ from solutions/ with nbgrader
	for lesson in $(LESSON_NAMES); do $(BIN)/nbgrader generate_assignment $$lesson --force || exit 1; done

# nbgrader's autograde compares a submission with the assignment's records in gradebook.db,
# which generate_assignment writes; a fresh clone has none. Written into a scratch release
# folder, so lessons/ is left as committed.
gradebook: $(STAMP) ## Write nbgrader's gradebook.db of every lesson (what `nbgrader autograde` needs), leaving lessons/ untouched
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	for lesson in $(LESSON_NAMES); do \
	  PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment $$lesson --force --log-level=WARN \
	    --CourseDirectory.release_directory="$$scratch" || exit 1; \
	done && echo "gradebook.db has the lessons: $(LESSON_NAMES)"

# Said before anything is installed.
ifeq ($(filter release,$(MAKECMDGOALS))$(DEST),release)
$(error usage: make release DEST=folder [FORCE=1])
endif
release: $(STAMP) ## Write the learners' template repository to DEST (no solutions, no hidden tests); FORCE=1 to overwrite
	$(BIN)/grader release "$(DEST)" $(if $(FORCE),--force,)

lock: $(STAMP) ## Re-resolve requirements.lock from pyproject.toml (every extra, every platform), then `make test`
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 -o $(LOCK)

bench: engine ## Time grader check against the bare docker CLI: warm floor and a class batch, cold, per builder; fast verdicts against their bounds
	$(BIN)/python benchmarks/grade_vs_floor.py
	$(BIN)/python benchmarks/grade_vs_docker.py
	$(BIN)/python benchmarks/builders.py
	$(BIN)/python benchmarks/verdict_times.py

# Nested engines (grader/provision/nested_engine.py): Docker Engine 26 / Podman 5 from
# Debian trixie packages, in containers on the host engine; no registry needed.
.PHONY: modern-engine modern-engine-stop podman-engine podman-engine-stop
MODERN_FLAVOURS := overlay2=modern containerd=modern-containerd
modern_flavour = $(patsubst $(1)=%,%,$(filter $(1)=%,$(MODERN_FLAVOURS)))

modern-engine: $(STAMP) ## Start Docker Engine 26 nested (FLAVOUR=overlay2|containerd); last line: DOCKER_HOST=…
	@flavour="$(call modern_flavour,$(or $(FLAVOUR),overlay2))"; \
	if [ -z "$$flavour" ]; then echo "FLAVOUR must be overlay2 or containerd, not '$(FLAVOUR)'" >&2; exit 2; fi; \
	$(BIN)/grader engine nested up --flavour "$$flavour"

modern-engine-stop: $(STAMP) ## Remove the nested Docker Engine 26 of FLAVOUR (both flavours when FLAVOUR is unset)
	@flavours="$(if $(FLAVOUR),$(call modern_flavour,$(FLAVOUR)),modern modern-containerd)"; \
	if [ -z "$$flavours" ]; then echo "FLAVOUR must be overlay2 or containerd, not '$(FLAVOUR)'" >&2; exit 2; fi; \
	$(BIN)/grader engine nested down $$(printf -- '--flavour %s ' $$flavours)

podman-engine: $(STAMP) ## Start Podman 5 nested, with its Docker-compatible API; last line: DOCKER_HOST=…
	@$(BIN)/grader engine nested up --flavour podman

podman-engine-stop: $(STAMP) ## Remove the nested Podman engine (its container and data volume)
	@$(BIN)/grader engine nested down --flavour podman
