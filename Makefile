# Shouhou developer loop. `make` alone lists the targets.
# Every target that needs Python first makes sure .venv matches requirements.lock,
# and every target that needs a model first trains one if none matches the data.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa

# Rasa must never phone home (the machine has no outside network anyway), and
# TensorFlow's start-up chatter hides the lines a person needs to read.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.DEFAULT_GOAL := help
.PHONY: help setup train run run-cluster nginx shell test browser retrain eval validate bench bench-conversation bench-handoff bench-load bench-soak seed add-example add-anger compare lint lock clean purge

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

setup: ## create or refresh .venv from requirements.lock (Python 3.10)
	@bash scripts/setup_venv.sh

train: setup ## train the model if none matches config, domain, data and dictionary
	@$(PY) -m scripts.train

run: train ## start Redis (embedded unless REDIS_URL is set), the action server and Rasa
	@$(PY) -m scripts.run

run-cluster: train nginx ## nginx in front of 2 gateways, 2 Rasa servers, 2 action servers, one Redis [INSTANCES=2]
	@$(PY) -m scripts.cluster $(if $(INSTANCES),--instances $(INSTANCES))

nginx: ## install Debian's nginx when missing (the cluster, its fault tests and the load benchmark put it in front)
	@bash scripts/ensure_nginx.sh

shell: train ## talk to the assistant in the terminal (rasa shell + action server)
	@$(PY) -m scripts.run --shell

test: train browser nginx ## run the whole test suite against a real Redis, the trained model and a real browser
	@$(PY) -m scripts.run --redis-only -- $(PY) -m pytest $(PYTEST_ARGS)

browser: ## install Debian's chromium and chromium-driver when missing (the browser tests drive them)
	@bash scripts/ensure_browser.sh

validate: setup ## rasa data validate
	@$(PY) -m scripts.evaluate --validate-only

eval: train ## validate data, cross-validate, test on the dev split, write reports/
	@$(PY) -m scripts.evaluate

bench: train ## NLU benchmark vs Rasa's stock pipeline (bench/results/nlu.json)
	@$(PY) -m bench.nlu

bench-conversation: train nginx ## end-to-end latency through the REST webhook, 1/10/50 conversations, one instance and two (bench/results/conversation.json)
	@$(PY) -m scripts.run --redis-only -- $(PY) -m bench.conversation

bench-handoff: train ## angry shoppers reach agents: ticket visible, agent->shopper delivery, lost/doubled (bench/results/handoff.json)
	@$(PY) -m scripts.run --redis-only -- $(PY) -m bench.handoff

bench-load: train nginx ## 1 vs 2 instances of each service under simulated shoppers and agents: msg/s, p95, lost/doubled, scaling, profile (bench/results/load.json) [LOAD_ARGS=…]
	@$(PY) -m scripts.run --redis-only -- $(PY) -m bench.load $(LOAD_ARGS)

bench-soak: train nginx ## 30 min at half the measured capacity: memory of every process (plot), Redis keys and expiry (bench/results/soak.json) [SOAK_ARGS=…]
	@$(PY) -m scripts.run --redis-only -- $(PY) -m bench.soak $(SOAK_ARGS)

retrain: setup ## validate, train a candidate, compare it with the live model on the dev split [EPOCHS=10] (the trainer page's job; go live in the page)
	@$(PY) -m scripts.run --redis-only -- $(PY) -m trainer.retrain $(if $(EPOCHS),--epochs $(EPOCHS))

seed: setup ## reseed the demo store (var/shop.db) and list its story orders
	@$(PY) -m actions.shop.seed --force

# CONVERSATION reaches the recipe through the environment too, so an id needs no escaping here.
purge: setup ## remove personal data older than the retention, or one conversation: make purge [DAYS=30] [CONVERSATION=u1001] [DRY_RUN=1]
	@$(PY) -m scripts.run --redis-only -- $(PY) -m handoff.cli purge $(if $(DAYS),--older-than=$(DAYS)) $${CONVERSATION:+--conversation="$$CONVERSATION"} $(if $(DRY_RUN),--dry-run)

# TEXT, INTENT, ENTITIES and LABEL reach the recipe through the environment (make exports
# command-line variables), so quotes and backticks in a shopper's message need no escaping here.
add-example: setup ## add a labelled NLU example: make add-example INTENT=report_broken TEXT='杯子碎了' [ENTITIES=0:2:product] [FORCE=1]
	@$(PY) -m trainer.cli add-example --intent="$$INTENT" --text="$$TEXT" $${ENTITIES:+--entity="$$ENTITIES"} $(if $(FORCE),--force)

add-anger: setup ## add a labelled anger example: make add-anger TEXT='…' LABEL=angry|calm [FORCE=1]
	@case "$$LABEL" in angry|calm) ;; *) echo "add-anger: LABEL must be angry or calm" >&2; exit 2;; esac
	@$(PY) -m trainer.cli add-anger --text="$$TEXT" --$$LABEL $(if $(FORCE),--force)

compare: setup ## retrain pipeline variants and write the comparison table in docs/nlu.md
	@$(PY) -m scripts.compare_pipelines

lint: setup ## ruff
	@$(VENV)/bin/ruff check bot actions handoff trainer scripts bench tests

lock: setup ## re-pin requirements.lock from the packages in .venv (after changing requirements.in)
	@$(VENV)/bin/pip install --quiet -r requirements.in
	@(echo "# Generated by \`make lock\` from requirements.in on Python 3.10 — do not edit by hand."; \
	  $(VENV)/bin/pip list --format=freeze --exclude-editable | grep -v -E '^pip==' | sort -f) > requirements.lock
	@! grep -n -v -E '^(#|[A-Za-z0-9_.-]+==[^ ]+$$)' requirements.lock || (echo 'lock: only name==version lines belong in requirements.lock' >&2; exit 1)

clean: ## remove trained models, caches and reports (keeps .venv and var/)
	rm -rf models .rasa reports .pytest_cache .ruff_cache
