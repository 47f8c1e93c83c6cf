"""setuptools' hook for the one thing pyproject.toml cannot say: the page's built files.

`pip install .` and `pip install -e .` from a clone first build the browser files the
service serves (the investigator's page's graph libraries at /ui, Swagger UI and ReDoc at
/docs and /redoc) when they are not there yet: `npm ci` in ui/ from its lock file, then
`scripts/copy-assets`, as `scripts/demo` does. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUILT_FILES = (
    ROOT / "api/static/ui/vendor/cytoscape.js",
    ROOT / "api/static/ui/vendor/cytoscape-dagre.js",
    ROOT / "api/static/docs/redoc.standalone.js",
    ROOT / "api/static/docs/swagger-ui-bundle.js",
)


def build_page_files() -> None:
    """Make the served browser files from ui/'s npm packages unless they are all there."""
    if all(path.exists() for path in BUILT_FILES):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "kpledger: the page's browser files (api/static/ui/vendor/, api/static/docs/) are "
            "built from ui/package-lock.json with npm, which is not installed: install Node.js "
            "and npm, or run scripts/copy-assets where they are, then install again"
        )
    if not (ROOT / "ui/node_modules").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT / "ui", check=True
        )
    subprocess.run(["bash", str(ROOT / "scripts/copy-assets")], check=True)


class BuildPyWithPageFiles(build_py):
    """build_py that builds the page's files first, so package data picks them up."""

    def run(self) -> None:
        build_page_files()
        super().run()


setup(cmdclass={"build_py": BuildPyWithPageFiles})
