# One-word entry points. Everything the package does is also reachable without make:
# see README ("Without make / on Windows").
PYTHON ?= python3
VENV ?= .venv
TEST_WORKERS ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo all test venv demo-data seed-data dictionary notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"
	$(BIN)/tyokyky-eval kernel
	touch $(STAMP)

venv: $(STAMP)

# synthetic data of every parameters file with a `synthetic` key (the demo and the seed projects)
SYNTHETIC_PARAMS = $(shell grep -l '^synthetic:' parameters/*.yaml)
demo-data: $(STAMP)
	$(BIN)/tyokyky-eval demo-data --params $(SYNTHETIC_PARAMS)

seed-data: demo-data

demo: demo-data
	$(BIN)/tyokyky-eval run parameters/demo.yaml --output output

# every project in parameters/, in parallel
all: demo-data
	$(BIN)/tyokyky-eval run-all parameters --output output

# two workers (pytest-xdist); a module's tests, and nbval's cells of one notebook, stay on one worker
test: demo-data
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope tests notebooks --nbval \
		--nbval-sanitize-with notebooks/sanitize.cfg --nbval-kernel-name tyokyky-eval

dictionary: $(STAMP)
	$(BIN)/tyokyky-eval dictionary > data_dictionary/README.md

notebooks: demo-data
	$(BIN)/python tools/refresh_notebooks.py $(NB)

clean:
	rm -rf $(VENV) demo-data output
