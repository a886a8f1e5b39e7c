# Two commands on a fresh machine: `make run` (build the sample index, answer a sample question)
# and `make test` (the test suite).  Both create .venv and install everything first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE_INDEX := index/sample
QUESTION ?= 鹭江引水工程柳溪段的输水管线有多长？

export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run test sample-index eval-dev clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

sample-index: $(STAMP)
	test -f $(SAMPLE_INDEX)/rag.sqlite || $(BIN)/rag ingest sample/pages --index $(SAMPLE_INDEX)

run: sample-index
	$(BIN)/rag ask "$(QUESTION)" --index $(SAMPLE_INDEX)

test: $(STAMP)
	$(BIN)/python -m pytest -q

eval-dev: $(STAMP)
	test -f index/seeds/rag.sqlite || $(BIN)/rag ingest ../shared/corpus/seeds --index index/seeds
	$(BIN)/rag eval ../shared/eval/dev.jsonl --index index/seeds

clean:
	rm -rf $(VENV) index/sample index/seeds
