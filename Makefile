# The two commands of the quick start: `make demo` and `make test`.
# Only python3 (>= 3.11), git and make are needed; everything else goes into .venv.

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
CONSTRAINTS := requirements/constraints.txt

.PHONY: demo test install lint check clean

# Installs again only when the declared or pinned dependencies change.
$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint $(CONSTRAINTS) --editable '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) load_knowledge_base
	$(MANAGE) load_demo_products
	$(MANAGE) ensure_demo_staff
	@echo "Serving on http://127.0.0.1:$(PORT)/  (API: /api/v1/, admin: /admin/)"
	DEBUG=$${DEBUG:-true} $(MANAGE) runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MANAGE) makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache .ruff_cache
