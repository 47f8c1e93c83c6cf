# Sourced by scripts/demo and scripts/test: makes ./.venv with kpledger and its pinned
# dependencies installed, re-installing only when pyproject.toml changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.kpledger-installed"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating the virtual environment in $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
    echo "installing kpledger and its dependencies into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]" >&2
    touch "$STAMP"
fi
# The investigator's page (GET /ui) serves cytoscape and cytoscape-dagre, and GET /docs and
# /redoc serve Swagger UI and ReDoc, from the packages: `npm ci` from ui/package-lock.json
# when ui/node_modules is missing or older than the lock file, then their dist files are
# copied into api/static/ui/vendor/ and api/static/docs/ (git-ignored).
UI="$ROOT/ui"
VENDOR="$ROOT/api/static/ui/vendor"
UI_STAMP="$UI/node_modules/.kpledger-installed"
if [ ! -f "$UI_STAMP" ] || [ "$UI/package-lock.json" -nt "$UI_STAMP" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm is needed to install the investigator's page's libraries (ui/package.json)" >&2
        exit 1
    fi
    echo "installing the page's npm packages into $UI/node_modules" >&2
    (cd "$UI" && npm ci --no-audit --no-fund --loglevel=error >&2)
    touch "$UI_STAMP"
fi
# scripts/copy-assets copies them (the Dockerfile's build stage runs it too).
DOCS="$ROOT/api/static/docs"
if [ ! -f "$VENDOR/.copied" ] || [ "$UI_STAMP" -nt "$VENDOR/.copied" ] \
    || [ ! -f "$DOCS/.copied" ] || [ "$UI_STAMP" -nt "$DOCS/.copied" ]; then
    "$ROOT/scripts/copy-assets"
    touch "$VENDOR/.copied" "$DOCS/.copied"
fi
