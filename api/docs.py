"""`GET /docs` (Swagger UI) and `GET /redoc` (ReDoc), served with no network.

Their scripts and styles come from the npm packages `swagger-ui-dist` and `redoc`
(ui/package.json), copied into `api/static/docs/` by `scripts/_venv.sh` (and by the
Dockerfile's build stage); `/docs/assets/...` serves them. No page loads anything from
another origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC_DOCS", "mount_docs"]

STATIC_DOCS = Path(__file__).parent / "static" / "docs"
_ASSETS = "/docs/assets"


def mount_docs(app: FastAPI) -> None:
    """Adds `/docs`, `/redoc` and their files under `/docs/assets/` to the application."""
    title = f"{app.title}: API reference"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=title,
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=title,
            redoc_js_url=f"{_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{_ASSETS}/favicon-32x32.png",
            with_google_fonts=False,
        )

    app.mount(_ASSETS, StaticFiles(directory=STATIC_DOCS, check_dir=False), name="docs-assets")
