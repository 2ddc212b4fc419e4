# The one door in. Every routine task is a target here; CI calls these too.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
PY := $(UV) run --frozen
MANAGE := $(PY) python manage.py
DEMO_ENV := DSR_DEMO=1 DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3
TEST_ENV := DSR_TESTING=1
PORT ?= 8000
export PORT

.PHONY: help env assets static serve demo run test test-sqlite test-postgres test-browser check fmt migrate bench clean

help:
	@echo "make demo    - run the register with fictional data on http://127.0.0.1:8000 (PORT=8001 make demo for another port)"
	@echo "make test    - run the test suite (SQLite; PostgreSQL too when DATABASE_URL is set)"
	@echo "make check   - ruff (lint + format check) and mypy"
	@echo "make run     - serve without loading demo data (Django's development server)"
	@echo "make static  - collect static files once, hashed, for production (needs Node only here)"
	@echo "make serve   - the production server: gunicorn with dsr/config/gunicorn.py"
	@echo "make bench   - benchmarks (needs DATABASE_URL to PostgreSQL)"

env:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --quiet

node_modules/nhsuk-frontend/package.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The NHS.UK stylesheet without its @font-face rules, which fetch Frutiger from NHS.UK's
# font host: no third-party request by default. They go to nhsuk-fonts.css, linked only
# when DSR_NHS_FONTS is on (README, "Settings"). Source-map comments are dropped: the maps
# are not shipped, and `make static` hashes every file a file refers to.
NHSUK_DIST := node_modules/nhsuk-frontend/dist/nhsuk
assets: node_modules/nhsuk-frontend/package.json
	mkdir -p dsr/static/nhsuk dsr/static/images
	sed -E -e 's/@font-face\{[^}]*\}//g' -e 's|/\*# sourceMappingURL=[^*]*\*/||' $(NHSUK_DIST)/nhsuk-frontend.min.css > dsr/static/nhsuk/nhsuk-frontend.min.css
	grep -oE '@font-face\{[^}]*\}' $(NHSUK_DIST)/nhsuk-frontend.min.css > dsr/static/nhsuk/nhsuk-fonts.css
	sed -E 's|//# sourceMappingURL=[^ ]*||' $(NHSUK_DIST)/nhsuk-frontend.min.js > dsr/static/nhsuk/nhsuk-frontend.min.js
	cp $(NHSUK_DIST)/assets/images/* dsr/static/images/
	cp $(NHSUK_DIST)/assets/manifest.json dsr/static/manifest.json

demo: env assets
	mkdir -p var
	$(DEMO_ENV) $(MANAGE) migrate --noinput
	$(DEMO_ENV) $(MANAGE) load_demo
	$(DEMO_ENV) $(MANAGE) runserver 127.0.0.1:$(PORT)

run: env assets
	$(MANAGE) migrate --noinput
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# Production (docs/deploy.md). `static` runs once, where Node is, and its var/static/ ships
# with the release; `serve` needs only Python: SECRET_KEY, AUDIT_KEYS, DATABASE_URL... set.
static: env assets
	$(TEST_ENV) DSR_COLLECTED_STATIC=1 $(MANAGE) collectstatic --noinput --clear -v 0  # no secrets needed to collect files

serve: env
	$(PY) gunicorn -c dsr/config/gunicorn.py

# SQLite always; PostgreSQL as well when DATABASE_URL points at one.
test: env assets
	$(TEST_ENV) DATABASE_URL= $(PY) pytest -q -p no:randomly
	@if [ -n "$$DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; fi

test-postgres: env assets
	$(TEST_ENV) DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dsr} $(PY) pytest -q

test-browser: env assets
	$(TEST_ENV) DATABASE_URL= $(PY) pytest -q -m browser -p no:randomly

check: env
	$(PY) ruff check .
	$(PY) ruff format --check .
	$(TEST_ENV) $(PY) mypy
	$(TEST_ENV) DATABASE_URL= $(MANAGE) makemigrations --check --dry-run

fmt: env
	$(PY) ruff format .
	$(PY) ruff check --fix .

# PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL's server with its own dsr_bench database.
# Options: make bench BENCH_ARGS="--regenerate --duration 60" (see python -m bench --help).
bench: env assets
	$(PY) python -m bench $(BENCH_ARGS)

clean:
	rm -rf var/*.sqlite3* dsr/static/nhsuk dsr/static/images
