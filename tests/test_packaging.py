"""Packaging: ``python -m build`` gives an sdist and a wheel that install and run.

The build runs on a copy of the project, so the working tree gets no build/ or
egg-info; without build isolation when the installed setuptools meets
[build-system] requires (no network), else isolated (pip fetches setuptools).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from hx import __version__

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
IGNORED = shutil.ignore_patterns(
    ".git",
    ".*cache",
    ".benchmarks",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    "tests",
    "bench",
)
QUIET_PIP = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path
    checkout_before: set[str]
    """Top-level names in the checkout before the build (pip install -e may add build/)."""


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **QUIET_PIP},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (args, result.stdout[-3000:], result.stderr[-3000:])
    return result


def setuptools_meets_requirements() -> bool:
    """Can the installed setuptools build this project without an isolated environment?"""
    for text in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(text)
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            return False
        if not requirement.specifier.contains(installed, prereleases=True):
            return False
    return True


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    checkout_before = {path.name for path in ROOT.iterdir()}
    work = tmp_path_factory.mktemp("packaging")
    source, dist = work / "src", work / "dist"
    shutil.copytree(ROOT, source, ignore=IGNORED, symlinks=True)
    isolation = ["--no-isolation"] if setuptools_meets_requirements() else []

    run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", dist, *isolation, source)

    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert [p.name for p in wheels] == [f"hx-{__version__}-py3-none-any.whl"]
    assert [p.name for p in sdists] == [f"hx-{__version__}.tar.gz"]
    yield Built(wheels[0], sdists[0], checkout_before)
    shutil.rmtree(work)


@pytest.mark.slow
def test_build_leaves_working_tree_alone(built: Built) -> None:
    assert {path.name for path in ROOT.iterdir()} == built.checkout_before


@pytest.mark.slow
def test_wheel_contents(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        info = f"hx-{__version__}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()

    assert {"hx/__init__.py", "hx/__main__.py", "hx/py.typed", "hx/cli/__init__.py"} <= names
    assert f"{info}/licenses/LICENSE" in names
    assert "\nLicense-Expression: MIT\n" in metadata
    assert {name.split("/")[0] for name in names} == {"hx", info}  # no tests, no bench
    assert f"\nVersion: {__version__}\n" in metadata
    assert "\nName: hx\n" in metadata
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert Requirement(requirement).name in metadata
    assert "hx = hx._entry:main" in entry_points


@pytest.mark.slow
def test_sdist_contents(built: Built) -> None:
    top = f"hx-{__version__}"
    with tarfile.open(built.sdist) as sdist:
        names = set(sdist.getnames())
        member = sdist.extractfile(f"{top}/PKG-INFO")
        assert member is not None
        pkg_info = member.read().decode()

    expected = {
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "src/hx/py.typed",
        "src/hx/cli/__init__.py",
    }
    expected |= {"man/hx.1", "completions/hx.bash", "completions/_hx", "completions/hx.fish"}
    assert {f"{top}/{name}" for name in expected} <= names
    assert f"\nVersion: {__version__}\n" in pkg_info


@pytest.mark.slow
def test_wheel_installs_and_runs_in_fresh_venv(built: Built, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv)
    python = venv / "bin" / "python"

    # The system pip, run by the venv's interpreter, installs into the venv; the
    # dependencies come from the system site-packages, so no index is needed.
    run(python, "-m", "pip", "install", "--no-deps", "--force-reinstall", "--no-index", built.wheel)

    assert run(venv / "bin" / "hx", "--version").stdout == f"hx {__version__}\n"
    assert run(python, "-m", "hx", "--version").stdout == f"hx {__version__}\n"
    where = run(
        python,
        "-c",
        "import hx, importlib.metadata as m; print(hx.__file__); print(m.version('hx'))",
    ).stdout.splitlines()
    assert Path(where[0]).is_relative_to(venv), where  # the wheel, not the editable checkout
    assert where[1] == __version__


def test_build_requirement_understands_license_expression() -> None:
    assert isinstance(PYPROJECT["project"]["license"], str)
    [setuptools] = [
        Requirement(text)
        for text in PYPROJECT["build-system"]["requires"]
        if Requirement(text).name == "setuptools"
    ]
    assert not setuptools.specifier.contains("76.1.0")
