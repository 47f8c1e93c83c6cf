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
# The investigator's page (GET /ui) serves cytoscape and cytoscape-dagre from the package:
# `npm ci` from ui/package-lock.json when ui/node_modules is missing or older than the lock
# file, then their ES-module builds are copied into api/static/ui/vendor/ (git-ignored).
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
if [ ! -f "$VENDOR/.copied" ] || [ "$UI_STAMP" -nt "$VENDOR/.copied" ]; then
    mkdir -p "$VENDOR"
    cp "$UI/node_modules/cytoscape/dist/cytoscape.esm.min.mjs" "$VENDOR/cytoscape.js"
    cp "$UI/node_modules/cytoscape-dagre/dist/cytoscape-dagre.min.mjs" "$VENDOR/cytoscape-dagre.js"
    cp "$UI/node_modules/cytoscape/LICENSE" "$VENDOR/cytoscape.LICENSE.txt"
    cp "$UI/node_modules/cytoscape-dagre/LICENSE" "$VENDOR/cytoscape-dagre.LICENSE.txt"
    touch "$VENDOR/.copied"
fi
# GET /docs and /redoc serve Swagger UI and ReDoc from the packages too (api/docs.py), into
# api/static/docs/ (git-ignored): no CDN.
DOCS="$ROOT/api/static/docs"
if [ ! -f "$DOCS/.copied" ] || [ "$UI_STAMP" -nt "$DOCS/.copied" ]; then
    mkdir -p "$DOCS"
    for file in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png; do
        cp "$UI/node_modules/swagger-ui-dist/$file" "$DOCS/$file"
    done
    cp "$UI/node_modules/swagger-ui-dist/LICENSE" "$DOCS/swagger-ui.LICENSE.txt"
    cp "$UI/node_modules/redoc/bundles/redoc.standalone.js" "$DOCS/redoc.standalone.js"
    cp "$UI/node_modules/redoc/LICENSE" "$DOCS/redoc.LICENSE.txt"
    touch "$DOCS/.copied"
fi
