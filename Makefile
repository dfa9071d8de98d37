# The two commands a newcomer needs:  make run   and   make test
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install index browser lint bench clean

## run: install, build the index of corpus/ if needed, serve the web chat on http://127.0.0.1:7860
run: install
	$(PY) -m rag index
	$(PY) app.py

## test: install (incl. Debian chromium for the browser test), then run the whole suite
test: install browser
	$(PY) -m pytest -q

install: $(VENV)/.installed

# torch is installed first, pinned: its CPU wheel is on this machine's disk, while an open
# range would pull a multi-GB CUDA build.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-deps -e .
	touch $@

browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

index: install
	$(PY) -m rag index

lint: install
	$(VENV)/bin/ruff check rag tests app.py webui bench
	$(VENV)/bin/mypy rag app.py webui

bench: install
	$(PY) bench/index_bench.py
	$(PY) bench/retrieval_bench.py

clean:
	rm -rf $(VENV) index/chroma index/keyword .cache
