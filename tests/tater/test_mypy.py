"""The apps type-check: mypy with django-stubs and djangorestframework-stubs.

``pyproject.toml`` [tool.mypy] holds the configuration (the packages checked, the plugins,
the strictness, the third-party packages without types). mypy keeps its cache in
``.mypy_cache/`` (gitignored): a clean clone's first run takes about a minute, later ones
seconds.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]


@pytest.mark.slow
def test_the_apps_type_check() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"mypy failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False)


def test_every_app_is_type_checked() -> None:
    """A new app is checked too: mypy's ``files`` are the apps of the import contracts."""
    tool = _pyproject()
    assert set(tool["mypy"]["files"]) == set(tool["importlinter"]["root_packages"])
