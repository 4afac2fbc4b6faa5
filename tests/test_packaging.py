"""`pip install .` from a clean clone must ship the knowledge files and templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contains_knowledge_templates_and_sources(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=180,
    )
    (wheel,) = tmp_path.glob("eport_guide-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in (REPO / "knowledge" / "data").glob("*.yaml"):
        assert f"knowledge/data/{f.name}" in names
    for f in (REPO / "knowledge" / "sources").glob("*.txt"):
        assert f"knowledge/sources/{f.name}" in names
    for f in (REPO / "dialogs" / "templates").glob("*.j2"):
        assert f"dialogs/templates/{f.name}" in names
    assert "dialogs/screens.yaml" in names
    for f in (REPO / "web" / "templates").iterdir():  # the web pages' template, style and script
        assert f"web/templates/{f.name}" in names
    # the pictures' font (PNG without system fonts) and its licence
    assert {"dialogs/pictures/fonts/NotoSansCJKsc-subset.otf", "dialogs/pictures/fonts/OFL.txt"} <= names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "eport-guide = bot.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
