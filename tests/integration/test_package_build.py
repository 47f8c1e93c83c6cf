"""`pip install .` from a clone ships the page's built files (setup.py builds them with npm).

The browser files the service serves (cytoscape and its layered layout at /ui, Swagger UI
and ReDoc at /docs and /redoc) are not in git: a clone of this repository, built as a wheel
the way `pip install .` builds it, must carry them with the page itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVED_FILES = {
    "api/static/ui/index.html",
    "api/static/ui/app.js",
    "api/static/ui/app.css",
    "api/static/ui/i18n/fr.json",
    "api/static/ui/vendor/cytoscape.js",
    "api/static/ui/vendor/cytoscape-dagre.js",
    "api/static/docs/swagger-ui-bundle.js",
    "api/static/docs/swagger-ui.css",
    "api/static/docs/redoc.standalone.js",
}


def test_a_wheel_built_from_a_clone_carries_the_page_and_its_libraries(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    for committed_files_only in ("api/static/ui/vendor", "api/static/docs", "ui/node_modules"):
        assert not (clone / committed_files_only).exists(), committed_files_only
    # The working tree's setup.py, MANIFEST.in and page, as a commit of them would carry them.
    for name in ("setup.py", "MANIFEST.in", "pyproject.toml"):
        shutil.copy(ROOT / name, clone / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(clone)],
        check=True,
    )
    (wheel,) = wheels.glob("kpledger-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
        assert shipped >= SERVED_FILES, sorted(SERVED_FILES - shipped)
        cytoscape = archive.read("api/static/ui/vendor/cytoscape.js")
    assert cytoscape == (ROOT / "api/static/ui/vendor/cytoscape.js").read_bytes()
