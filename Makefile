# Sourcefront — everyday commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
LOCALSTRIPE_PORT ?= 8420
# Links in the emails `make run` writes follow the port it serves on (unless set).
SHOP_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test test-fast install lint format browser-deps stack-deps translations-extract translations-update bench screenshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
	$(PY) -c 'from shop.i18n_catalogs import compile_catalogs; compile_catalogs()'

## run: migrate, seed the demo if the catalogue is empty, start localstripe, serve on :5000
## (make run PORT=5010 LOCALSTRIPE_PORT=8410: other ports; email links follow PORT)
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@mkdir -p instance; \
	$(PY) -m shop.devstripe --port $(LOCALSTRIPE_PORT) \
		--webhook-url http://$(HOST):$(PORT)/stripe/webhook > instance/localstripe.log 2>&1 & \
	stripe_pid=$$!; trap 'kill $$stripe_pid 2>/dev/null' EXIT INT TERM; \
	echo "localstripe on http://127.0.0.1:$(LOCALSTRIPE_PORT) (log: instance/localstripe.log)"; \
	echo "Sourcefront on http://$(HOST):$(PORT)"; \
	SHOP_BASE_URL=$(SHOP_BASE_URL) \
	STRIPE_API_BASE=http://127.0.0.1:$(LOCALSTRIPE_PORT) \
	STRIPE_JS_URL=http://127.0.0.1:$(LOCALSTRIPE_PORT)/js.stripe.com/v3/ \
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: lint, format check, then the whole suite (SQLite unless DATABASE_URL is set), in
## two pytest-xdist workers (the suite mostly waits: webhooks, browsers, processes racing)
test: install lint browser-deps stack-deps
	$(PY) -m pytest -n 2 --dist worksteal

## test-fast: the suite less the browser, stack, localstripe (live) and slow tests, on three
## pytest-xdist workers (two cores: one works while another waits), keeping pytest's
## rewritten test modules between runs (PYTHONDONTWRITEBYTECODE would redo them each time)
test-fast: install
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n 3 --dist worksteal -q \
		-m "not browser and not stack and not live and not slow"

# Debian's Chromium for the browser tests (never `playwright install`: no downloads here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } \
		|| echo "Chromium is not installed: browser tests will be skipped."

# nginx for the deploy and stack tests (Debian's package; skipped with a message without it).
stack-deps:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null && { apt-get update -q >/dev/null \
		&& apt-get install -y -q nginx >/dev/null; }; } \
		|| echo "nginx is not installed: the nginx and stack tests will be skipped."

## lint: ruff (style, imports, complexity <= 12) and mypy over shop/; also the pre-commit hooks
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

translations-extract: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file --ignore-dirs='.* __pycache__' \
		--project Sourcefront -o shop/translations/messages.pot .

translations-update: translations-extract
	$(VENV)/bin/pybabel update -i shop/translations/messages.pot -d shop/translations --no-fuzzy-matching

bench: install
	bash bench/run.sh

## screenshots: a running shop (`make run`, same PORT) on a 360 × 800 phone, in Chinese, saved
## to docs/screenshots/ (product page, school shop, cart) for the README
screenshots: install
	$(PY) docs/screenshots.py --base-url http://$(HOST):$(PORT) --locale zh_CN --scale 2

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
