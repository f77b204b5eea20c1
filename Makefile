# riskml: `make help` lists the targets. `make train` and `make test` set everything up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data/demo
CUSTOMERS ?= 2000
MONTHS ?= 36
SEED ?= 7
END ?= 2026-09-30
AS_OF ?= $(END)
OUT ?= out
MLFLOW_TRACKING_URI ?= sqlite:///mlflow.db
export MLFLOW_TRACKING_URI

.PHONY: help install demo-data validate features train score report backtest worklist serve test test-fast lint docs model-doc bench bench-real decisions clean

help: ## Show this help
	@if [ -t 1 ]; then c='\033[36m'; r='\033[0m'; else c=''; r=''; fi; \
	grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -v c="$$c" -v r="$$r" 'BEGIN {FS = ":.*?## "}; {printf "  %s%-12s%s %s\n", c, $$1, r, $$2}'; \
	echo; \
	echo "Variables (make TARGET NAME=value): DATA=$(DATA) (ledger directory), AS_OF=$(AS_OF) (YYYY-MM-DD, for"; \
	echo "  features/score/report), OUT=$(OUT), CUSTOMERS=$(CUSTOMERS) MONTHS=$(MONTHS) SEED=$(SEED) END=$(END) (demo ledger)."; \
	echo "  e.g. make score DATA=exports/2026-10 AS_OF=2026-10-31. After make train: source .venv/bin/activate"; \
	echo "  (or call .venv/bin/riskml) to run riskml yourself."

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "installing riskml and its dependencies into $(VENV) (a few minutes on a fresh clone)"
	$(BIN)/python -m pip install --progress-bar on -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create/refresh the virtual environment (.venv) and install riskml with dev tools

$(DATA)/customers.csv: | $(STAMP)
	$(BIN)/riskml synth --out $(DATA) --customers $(CUSTOMERS) --months $(MONTHS) --seed $(SEED) --end $(END)

demo-data: $(DATA)/customers.csv ## Generate the demo ledger in data/demo (if absent)

validate: demo-data ## Validate the ledger in DATA (default: the demo ledger)
	$(BIN)/riskml validate --data $(DATA) --rejects $(OUT)/rejects.csv

features: demo-data ## Build features as of AS_OF into out/features.parquet
	$(BIN)/riskml features --data $(DATA) --as-of $(AS_OF) --out $(OUT)/features.parquet

train: demo-data ## Train, validate out of time, log to MLflow and register the model (demo ledger by default)
	$(BIN)/riskml train --data $(DATA)

score: demo-data ## Score every customer as of AS_OF with the champion model into out/scores.parquet
	$(BIN)/riskml score --data $(DATA) --as-of $(AS_OF) --out $(OUT)/scores.parquet

report: demo-data ## Customer and portfolio reports as of AS_OF into out/reports (links out/worklist if made)
	$(BIN)/riskml report --data $(DATA) --as-of $(AS_OF) --scores $(OUT)/scores.parquet --out $(OUT)/reports \
	  $(if $(wildcard $(OUT)/worklist/index.html),--worklist $(OUT)/worklist)

COLLECTORS ?= 4
worklist: demo-data ## Collectors' worklists, escalations and paperwork queue as of AS_OF into out/worklist (after make score)
	$(BIN)/riskml worklist --data $(DATA) --as-of $(AS_OF) --scores $(OUT)/scores.parquet --out $(OUT)/worklist \
	  --collectors $(COLLECTORS) $(if $(wildcard $(OUT)/worklist/assignment.csv),--previous-assignment $(OUT)/worklist/assignment.csv)

BACKTEST_SWEEP ?= actions.hold_past_due_days=15,30,45,60

backtest: demo-data ## Replay the scoring policy at past month ends with a hold-threshold sweep into out/backtest
	$(BIN)/riskml backtest --data $(DATA) --out $(OUT)/backtest --sweep $(BACKTEST_SWEEP)

SERVE_DB ?= $(OUT)/serve.db
PORT ?= 8000
serve: demo-data ## Serve order-time credit checks on out/scores.parquet (make score first; keys: riskml serve keys add)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[serve]"
	@test -f $(OUT)/scores.parquet || $(MAKE) score
	$(BIN)/riskml serve --scores $(OUT)/scores.parquet --data $(DATA) --db $(SERVE_DB) --port $(PORT)

TEST_STAMP := $(VENV)/.installed-test

# the test suite also needs the Spark extra, Java (Spark) and Chromium (report screenshots): installed here
# from PyPI and Debian's packages when missing; tests that need them skip with a reason if this was not possible
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark,serve,postgres]"
	@bash scripts/system-deps.sh
	@touch $(TEST_STAMP)

test: $(TEST_STAMP) ## Run the whole test suite (slow tests included)
	$(BIN)/python -m pytest

test-fast: $(TEST_STAMP) ## Run the fast unit tier (under a minute; make test runs everything)
	$(BIN)/python -m pytest -m unit

lint: $(STAMP) ## Lint with ruff and type-check src/ with mypy (settings in pyproject.toml)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

docs: $(STAMP) ## Regenerate docs/features.md from the feature registry
	$(BIN)/python -m riskml.features.docs docs/features.md

model-doc: $(STAMP) ## Copy a run's model card figures into docs/model.md (CARD=models/NAME-vN/model_card.md)
	@test -n "$(CARD)" || { echo "give the card: make model-doc CARD=models/riskml-delinquency-v1/model_card.md (riskml train --out-model models)"; exit 2; }
	$(BIN)/python -m riskml.modeling.card $(CARD) docs/model.md

bench: $(STAMP) ## Run the speed/memory benchmarks and write docs/benchmarks.md
	$(BIN)/python benchmarks/run.py

bench-real: $(STAMP) ## Run the pipeline on the public data sets in ../shared/datasets
	$(BIN)/python benchmarks/real_data.py

decisions: $(STAMP) ## Judge the decisions against the generator's truth (demo + harsh ledger) into docs/scoring.md
	$(BIN)/python benchmarks/decisions.py

clean: ## Remove generated data, outputs and the local MLflow store
	rm -rf $(DATA) $(OUT) mlflow.db mlartifacts .bench
