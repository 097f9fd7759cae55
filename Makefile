# The two commands of the README. Each creates/updates .venv itself; needs only python3 (>= 3.11) and make.
#   make reproduce [PROFILE=tiny|caltech101|caltech101_gpu|paper] [KIND=cpu|gpu]   the notebook pipeline ->
#                      runs/reproduce/<profile>/, then verified against the published results/<profile>/ under
#                      KIND's tolerances (caltech101_gpu retrains on a GPU: KERAS_BACKEND=jax ...; retrain tolerances)
#   make test                                        lint, format check and the whole test suite
# The app in one command:
#   make app [APP_PORT=8866]  serve notebooks/app.ipynb with Voila on 127.0.0.1 (from the repository root,
#                             so that voila.json's 64 MiB websocket limit for uploads is read)
# The zero-install page (docs/web.md):
#   make web [WEB_PRECISION=fp32|int8]  build/web/: a static page that colorizes in the browser (ONNX Runtime Web);
#                             serve it from any static host, e.g. python3 -m http.server -d build/web
# Each of them installs only its own set of pyproject.toml's extras into .venv (one stamp per set):
#   make install  the core: the `colorization` command line     make app      core + app
#   make reproduce  core + notebooks                            make test     core + notebooks, app, jax, dev
#   make web      core + export (no kernel)
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
KIND ?= cpu
APP_HOST := 127.0.0.1
APP_PORT ?= 8866
WEB_OUT ?= build/web
WEB_PRECISION ?= fp32
# the versions that made the published results; CONSTRAINTS= (empty) installs the newest releases
CONSTRAINTS ?= constraints.txt
FAST := not slow and not subprocess and not jax and not browser

# pyproject.toml's extras of each install set (empty: the core alone)
EXTRAS_core :=
EXTRAS_notebooks := notebooks
EXTRAS_app := app
EXTRAS_test := notebooks,app,jax,dev,export,export-openvino,export-litert,video
CORE := $(VENV)/.installed-core
NOTEBOOKS := $(VENV)/.installed-notebooks
APP := $(VENV)/.installed-app
TEST := $(VENV)/.installed-test
WEB := $(VENV)/.installed-web

.PHONY: install reproduce app web publish test test-fast lint format screenshot benchmark clean

# One stamp per set; a set with a Jupyter kernel also gets the `python3` kernelspec and the Jupyter
# server's websocket limit (postBuild, the script Binder runs too) for uploads in JupyterLab.
$(VENV)/.installed-%: pyproject.toml Makefile $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".$(if $(EXTRAS_$*),[$(EXTRAS_$*)])" $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	$(if $(EXTRAS_$*),$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null)
	$(if $(EXTRAS_$*),$(BIN)/python postBuild $(VENV))
	touch $@

install: $(CORE)

reproduce: $(NOTEBOOKS)
	$(BIN)/python -m colorization.repro.reproduce --profile $(PROFILE) --kind $(KIND)

app: $(APP)
	@echo "The app: http://$(APP_HOST):$(APP_PORT)/  (Ctrl-C stops it; APP_PORT=... picks another port)"
	$(BIN)/voila notebooks/app.ipynb --no-browser --Voila.ip=$(APP_HOST) --port=$(APP_PORT) --Voila.port_retries=0

# The page's set: the core (its stamp makes .venv) + the export extra; no Jupyter kernel, unlike the sets above.
$(WEB): pyproject.toml Makefile $(CONSTRAINTS) | $(CORE)
	$(BIN)/python -m pip install --quiet -e ".[export]" $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	touch $@

# --overwrite replaces only an earlier build of the page (its manifest.json says so), never another folder
web: $(WEB)
	$(BIN)/python -m colorization.web.build $(WEB_OUT) --precision $(WEB_PRECISION) --overwrite

publish: $(NOTEBOOKS)
	$(BIN)/python -m colorization.repro.publish --profile $(PROFILE)

lint: $(TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

test-fast: $(TEST)
	$(BIN)/python -m pytest -m "$(FAST)"

format: $(TEST)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

screenshot: $(TEST)
	COLORIZATION_SCREENSHOT=$(CURDIR)/results/app/screenshot.png $(BIN)/python -m pytest -q tests/test_app_browser.py

benchmark: $(CORE)
	$(BIN)/python benchmarks/inference_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
