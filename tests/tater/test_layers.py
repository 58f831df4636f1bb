"""The import layers of STYLE.md ("Layers (import-linter)"), enforced.

``pyproject.toml`` [tool.importlinter] holds the contracts: ``layers`` (apps import
downwards only; the core, ``tater``, imports no app) and ``acyclic`` (no import cycle
between the modules and subpackages of a package: import-linter's layers cannot see
those). Each test runs ``lint-imports`` on one contract and shows its report on failure.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _config() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)["tool"]["importlinter"]


def _lint(contract: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", "--contract", contract],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("contract", ["layers", "acyclic"])
def test_import_contract_is_kept(contract: str) -> None:
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} missing: install requirements-dev.txt (import-linter)"
    result = _lint(contract)
    if result.returncode != 0:
        pytest.fail(f"lint-imports --contract {contract} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)


def test_every_app_of_the_project_is_in_the_contracts() -> None:
    """A new app must be given its place: else nothing checks what it imports."""
    ours = {app for app in settings.INSTALLED_APPS if "." not in app and (ROOT / app / "__init__.py").exists()}
    config = _config()
    contracts = {c["id"]: c for c in config["contracts"]}
    layered = {name.strip() for layer in contracts["layers"]["layers"] for name in layer.split("|")}
    assert set(config["root_packages"]) == ours
    assert layered == ours
    assert set(contracts["acyclic"]["ancestors"]) == ours
    assert contracts["layers"]["layers"][-1] == "tater", "the core is the bottom layer: it imports no app"
