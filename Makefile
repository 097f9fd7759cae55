# The two commands of the README. Each creates/updates .venv itself; needs only python3 (>= 3.11) and make.
#   make reproduce [PROFILE=tiny|caltech101|paper]   the notebook pipeline -> results/<profile>/
#   make test                                        the test suite (includes the tiny notebook pipeline)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= tiny
STAMP := $(VENV)/.installed

.PHONY: reproduce test benchmark clean

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,jax]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m colorization.repro.pipeline --profile $(PROFILE)

test: $(STAMP)
	$(BIN)/python -m pytest

benchmark: $(STAMP)
	$(BIN)/python benchmarks/inference_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
