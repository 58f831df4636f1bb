"""No app module over 500 lines: a module that grows past it is split into cohesive
modules (see how scim/services/ and scim/protocol/ are split), not given a higher limit.

Walks every app package (the ``root_packages`` of pyproject.toml's [tool.importlinter];
migrations excepted, being generated) and lists every offender with its line count.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("tater", "audit", "orgs", "apikeys", "outbox", "accounts", "scans", "leaks", "scim", "surfaces", "portal")
MAX_LINES = 500


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _modules() -> list[Path]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                found.append(path)
    return found


def test_the_walk_sees_every_app() -> None:
    seen = {path.relative_to(ROOT).parts[0] for path in _modules()}
    assert seen == set(APPS)


def test_no_app_module_is_over_500_lines() -> None:
    offenders = [
        (path.relative_to(ROOT).as_posix(), lines) for path in _modules() if (lines := _line_count(path)) > MAX_LINES
    ]
    assert not offenders, f"Modules over {MAX_LINES} lines (split them):\n" + "\n".join(
        f"  {name}: {lines} lines" for name, lines in offenders
    )
