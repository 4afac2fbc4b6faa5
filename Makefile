PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench eval fuzz golden check-knowledge clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Telegram when TELEGRAM_BOT_TOKEN is set, otherwise the console chat.
run: $(STAMP)
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then $(BIN)/eport-guide run; else $(BIN)/eport-guide chat; fi

test: $(STAMP)
	$(BIN)/eport-guide check-knowledge
	$(BIN)/python -m pytest

# Regenerate the golden transcripts in tests/golden/ after an intended change.
golden: $(STAMP)
	$(BIN)/python -m tests.golden_regen

# Measure against the targets and rewrite BENCHMARKS.md (about 1.5 minutes on 2 cores).
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Accuracy of the free-text answerer on tests/eval/questions.yaml, per group, and the misses.
eval: $(STAMP)
	$(BIN)/python -m tests.eval

# The fuzz test with 100,000 examples instead of the suite's bounded number.
fuzz: $(STAMP)
	EPORT_FUZZ_EXAMPLES=100000 $(BIN)/python -m pytest -p no:cacheprovider --timeout=0 tests/test_fuzz.py

check-knowledge: $(STAMP)
	$(BIN)/eport-guide check-knowledge

clean:
	rm -rf $(VENV) build dist *.egg-info
