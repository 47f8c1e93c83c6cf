"""The investigator's page: `GET /ui` and its files under `/ui/...`, from the package.

The page's own files live in `api/static/ui/` (its message catalogues, one per language,
in `api/static/ui/i18n/`, served as `/ui/i18n/<code>.json`); the graph libraries are copied into
`api/static/ui/vendor/` from `ui/node_modules` by `scripts/_venv.sh` (npm ci). Nothing
is fetched from elsewhere: the Content-Security-Policy only allows this origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_UI", "mount_ui"]

STATIC_UI = Path(__file__).parent / "static" / "ui"

_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["page"], include_in_schema=False)


@router.get("/ui")
def page() -> Response:
    """The investigator's page; no token needed to load it."""
    return FileResponse(STATIC_UI / "index.html", media_type="text/html", headers=_HEADERS)


@router.get("/ui/")
def page_slash() -> Response:
    """`/ui/` is `/ui` (relative asset paths are written for `/ui`)."""
    return RedirectResponse("/ui", status_code=308)


def mount_ui(app: FastAPI) -> None:
    """Adds the page and its files (`/ui/app.js`, `/ui/vendor/...`) to the application."""
    app.include_router(router)
    app.mount("/ui", StaticFiles(directory=STATIC_UI, check_dir=False), name="ui")
