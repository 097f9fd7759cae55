# The two commands of the README. Each creates/updates .venv itself; needs only python3 (>= 3.11) and make.
#   make reproduce [PROFILE=tiny|caltech101|paper]   the notebook pipeline -> runs/reproduce/<profile>/,
#                                                    then verified against the published results/<profile>/
#   make test                                        lint, format check and the whole test suite
# For the inner loop:
#   make test-fast     the suite without the slow, subprocess, JAX and browser tests (about a minute)
#   make format        ruff format + the fixable lint rules, in place
#   make publish       promote runs/reproduce/<profile>/ to the published results/<profile>/ (deliberate)
#   make screenshot    refresh the README's app screenshot (results/app/screenshot.png)
#   make benchmark     inference speed against plain Keras on this machine
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= tiny
STAMP := $(VENV)/.installed
# the versions that made the published results; CONSTRAINTS= (empty) installs the newest releases
CONSTRAINTS ?= constraints.txt
FAST := not slow and not subprocess and not jax and not browser

.PHONY: reproduce publish test test-fast lint format screenshot benchmark clean

$(STAMP): pyproject.toml Makefile $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,jax]" $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m colorization.repro.reproduce --profile $(PROFILE)

publish: $(STAMP)
	$(BIN)/python -m colorization.repro.publish --profile $(PROFILE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "$(FAST)"

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

screenshot: $(STAMP)
	COLORIZATION_SCREENSHOT=$(CURDIR)/results/app/screenshot.png $(BIN)/python -m pytest -q tests/test_app_browser.py

benchmark: $(STAMP)
	$(BIN)/python benchmarks/inference_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
