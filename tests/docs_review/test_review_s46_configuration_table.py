"""README "Configuration" held against the code: every variable its table names is read from
the environment (by ``tater/settings.py``, an app or ``./run``), every variable the code reads
is documented (README or docs/), and where the table gives one literal default the app started
without the variable has exactly that value. A renamed variable, a default changed on one side
only, or a new knob nobody wrote down fails here instead of in an operator's deployment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
APPS = ("tater", "accounts", "apikeys", "audit", "orgs", "outbox", "scans", "scim", "surfaces", "leaks", "portal")
SOURCES = [p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
CODE = "\n".join(p.read_text() for p in SOURCES) + (ROOT / "run").read_text()
INTERNAL = {"TATER_TESTING"}  # the test suite's own switch, not an operator's


def _rows() -> list[tuple[list[str], str]]:
    table = README.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        names: list[str] = []
        for name in re.findall(r"`(_?[A-Z][A-Z0-9_]*)`", cells[0]):
            if name.startswith("_"):  # `TATER_KEY_PREFIX_STANDARD`, `_AGENT`: the first name's stem
                name = names[0].rsplit("_", 1)[0] + name
            names.append(name)
        rows.append((names, cells[1]))
    return rows


ROWS = _rows()
TABLE = [name for names, _ in ROWS for name in names]


def test_the_table_is_read() -> None:
    assert len(TABLE) > 50
    unread = [name for name in TABLE if not re.search(rf"[\"'${{]{name}\b", CODE)]
    assert unread == []


def test_every_variable_the_code_reads_is_documented() -> None:
    read = set(re.findall(r"(?:os\.environ\.get|os\.getenv|env_[a-z_]+)\(\s*\"([A-Z][A-Z0-9_]*)\"", CODE))
    assert len(read) > 50
    docs = README + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    stems = {name.rsplit("_", 1)[0] for name in TABLE}
    missing = sorted(
        name
        for name in read - INTERNAL
        if f"`{name}`" not in docs and not (name.rsplit("_", 1)[0] in stems and f"`_{name.rsplit('_', 1)[1]}`" in docs)
    )
    assert missing == []


# How to read a variable's value from the started app, where its setting has another name.
READ_AS = {
    "DJANGO_DEBUG": "settings.DEBUG",
    "LOG_LEVEL": "settings.LOGGING['root']['level']",
    # the cache's prefix is set with Redis only; the limiter's is `<CACHE_KEY_PREFIX>:rl` (README)
    "CACHE_KEY_PREFIX": "settings.TATER_RATELIMIT_KEY_PREFIX.removesuffix(':rl')",
    "STATIC_ROOT": "str(settings.STATIC_ROOT.relative_to(settings.BASE_DIR)) + '/'",
}
NOT_A_SETTING = {"TATER_ADDR", "PG_SERVER_SIDE_BINDING"}  # ./run's; a database option


def _literal_defaults() -> dict[str, str]:
    """The rows whose default cell is only literals, one per variable (`20` / `600` / `900`)."""
    found: dict[str, str] = {}
    for names, cell in ROWS:
        literals = re.findall(r"`([^`<]+)`", cell)
        if len(literals) != len(names) or re.sub(r"`[^`]*`|[\s,/]", "", cell):
            continue
        found.update(zip(names, literals, strict=True))
    return found


def _same(documented: str, actual: Any) -> bool:
    if isinstance(actual, bool):
        return documented == ("true" if actual else "false")
    if isinstance(actual, int | float):
        return float(documented) == float(actual)
    if isinstance(actual, list):
        return documented == ",".join(actual)
    return documented == str(actual)


def test_literal_defaults_are_the_started_apps() -> None:
    defaults = {n: v for n, v in _literal_defaults().items() if n not in NOT_A_SETTING}
    assert len(defaults) >= 20, defaults
    shown = {name: READ_AS.get(name, f"settings.{name}") for name in defaults}
    code = "import json, django; from django.conf import settings; django.setup(); "
    code += "print(json.dumps({" + ", ".join(f"{n!r}: {e}" for n, e in shown.items()) + "}, default=str))"
    env = {k: v for k, v in os.environ.items() if k not in set(TABLE) | INTERNAL | {"DATABASE_URL", "REDIS_URL"}}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "tater.settings", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    actual = json.loads(done.stdout.strip().splitlines()[-1])
    wrong = {n: (defaults[n], actual[n]) for n in defaults if not _same(defaults[n], actual[n])}
    assert wrong == {}


def test_run_serves_on_the_documented_address() -> None:
    assert _literal_defaults()["TATER_ADDR"] == "127.0.0.1:8000"
    assert "${TATER_ADDR:-127.0.0.1:8000}" in (ROOT / "run").read_text()
