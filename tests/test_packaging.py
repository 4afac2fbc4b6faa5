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
        check=True,
        capture_output=True,
        timeout=180,
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
    for f in (REPO / "web" / "templates").rglob("*"):  # the web pages' templates (screens/ too), style and script
        assert f.is_dir() or f.relative_to(REPO).as_posix() in names
    # the pictures' font (PNG without system fonts) and its licence
    assert {"dialogs/pictures/fonts/NotoSansCJKsc-subset.otf", "dialogs/pictures/fonts/OFL.txt"} <= names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "eport-guide = bot.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


# -- the container's build stage ------------------------------------------------------------------
def dockerfile_build_stage() -> str:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    return text.split("\nFROM ", 2)[1]  # from the first FROM to the second


def dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip().removeprefix("**/") for line in lines if line.strip() and not line.startswith("#")]


def build_context(target: Path) -> Path:
    """``target`` filled with exactly what the Dockerfile's build stage copies (its COPY lines,
    relative to its WORKDIR, the .dockerignore patterns left out): the wheel is built from this."""
    import re
    import shutil

    stage = dockerfile_build_stage()
    assert re.search(r"^WORKDIR /src$", stage, re.M)
    ignore = shutil.ignore_patterns(*dockerignore())
    for line in re.findall(r"^COPY (?!--from)(.+)$", stage, re.M):
        *sources, dest = line.split()
        for source in sources:
            origin = REPO / source
            # into a directory (dest ends in /: "./") under the source's name, else as dest itself
            where = target / dest.removeprefix("./") / origin.name if dest.endswith("/") else target / dest.removeprefix("./")
            if origin.is_dir():
                shutil.copytree(origin, where, ignore=ignore)
            else:
                where.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, where)
    return target


def test_the_wheel_builds_from_exactly_what_the_dockerfile_copies(tmp_path):
    """The image's `pip wheel .` sees only the COPY'd files: every package directory and data file must be among them."""
    import tomllib

    context = build_context(tmp_path / "src")
    packages = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    for package in packages:
        assert (context / package.replace(".", "/") / "__init__.py").is_file(), f"the Dockerfile does not copy {package}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(tmp_path / "out"),
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "out").glob("eport_guide-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("bot", "dialogs", "dialogs/features", "knowledge", "web"):
        modules = {f"{package}/{f.name}" for f in (REPO / package).glob("*.py")}
        assert modules and modules <= names, f"{package}: {sorted(modules - names)} missing"
    data = [
        *(REPO / "knowledge" / "data").glob("*.yaml"),
        *(REPO / "knowledge" / "sources").glob("*.txt"),
        *(REPO / "dialogs" / "templates").glob("*.j2"),
        REPO / "dialogs" / "screens.yaml",
        *(REPO / "dialogs" / "locale").glob("*/LC_MESSAGES/*.po"),
        *(p for p in (REPO / "web" / "templates").rglob("*") if p.is_file()),
    ]
    for f in data:
        assert f.relative_to(REPO).as_posix() in names
    assert not [n for n in names if "__pycache__" in n]


def docker_usable() -> str | None:
    """Why the image cannot be built here, or None when it can."""
    import shutil

    if not shutil.which("docker"):
        return "docker is not installed"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        return "docker is installed but no daemon answers (`docker info` failed)"
    return None


def test_the_image_builds_with_docker():
    """`docker build` as docs/operations.md says (needs a Docker daemon and the network for the base image)."""
    import pytest

    reason = docker_usable()
    if reason:
        pytest.skip(reason)
    build = subprocess.run(
        ["docker", "build", "-q", "-t", "eport-guide:test", str(REPO)], capture_output=True, text=True, timeout=1800
    )
    assert build.returncode == 0, build.stderr[-3000:]
    version = subprocess.run(
        ["docker", "run", "--rm", "eport-guide:test", "eport-guide", "check-knowledge"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert version.returncode == 0 and "is valid" in version.stdout, version.stderr
