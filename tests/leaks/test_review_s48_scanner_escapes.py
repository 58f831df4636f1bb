"""Review s48 (SPEC §14 "Scanners recognise Tater keys"; docs/leaked-keys.md: a key after an
escaped line break is still a key). JSON written with ``\\u`` escapes glued the escape's last
hex digit to the key, so neither the detect-secrets plugin nor the gitleaks rules saw it:
Python's ``json.dumps`` writes a key pasted between curly quotes or after a no-break space as
``"\\u201ctater_…\\u201d"`` / ``"\\u00a0tater_…"``, Go's ``json.Marshal`` writes ``<ak_…>`` as
``"\\u003cak_…\\u003e"``. A ``\\uXXXX`` escape (and a ``\\xXX`` one) before the prefix now
counts as a boundary, like ``\\n``; a key glued to letters or digits still is not one."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "scanners" / "detect_secrets_tater.py"
RULES = tomllib.loads((REPO / "scanners" / "gitleaks.toml").read_text())["rules"]

KEYS = {
    "tater_" + "1" * 8 + "a" * 24: "smart quotes, Python json: {}",
    "ak_" + "2" * 8 + "b" * 24: "no-break space, Python json: {}",
    "ck_" + "3" * 8 + "c" * 24: "angle brackets, Go json: {}",
    "scim_" + "4" * 8 + "d" * 24: "a \\x escape: {}",
}
LINES = [
    json.dumps({"note": "key: \u201c" + list(KEYS)[0] + "\u201d"}),  # ensure_ascii: \u201c…
    json.dumps({"note": "key:\u00a0" + list(KEYS)[1]}),
    '{"note":"\\u003c' + list(KEYS)[2] + '\\u003e"}',  # Go's json.Marshal of "<ck_…>"
    'b"\\x22' + list(KEYS)[3] + '\\x22"',
]
NOT_KEYS = [
    '{"note":"\\u003cmytater_' + "5" * 32 + '"}',  # glued to letters after the escape
    '{"note":"\\u003c' + "tater_" + "6" * 33 + '"}',  # 33 hex digits
]


def _gitleaks(text: str) -> set[str]:
    hits = set()
    for rule in RULES:
        if any(k.lower() in text.lower() for k in rule["keywords"]):
            hits.update(m.group(1) for m in re.finditer(rule["regex"], text, re.ASCII))
    return hits


def test_the_escaped_lines_hold_the_keys_after_a_u_escape() -> None:
    for key, line in zip(KEYS, LINES, strict=True):
        assert key in line and not re.search(r"\b" + key, line, re.ASCII), line


def test_gitleaks_rules_find_keys_after_escapes() -> None:
    assert _gitleaks("\n".join(LINES)) == set(KEYS)
    assert _gitleaks("\n".join(NOT_KEYS)) == set()


def test_detect_secrets_plugin_finds_keys_after_escapes(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("\n".join(LINES + NOT_KEYS) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--all-files", "--plugin", str(PLUGIN), "notes.json"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)["results"].get("notes.json", [])
    reported = {f["hashed_secret"] for f in findings if f["type"] == "Tater API key"}
    assert reported == {hashlib.sha1(key.encode()).hexdigest() for key in KEYS}  # noqa: S324 - detect-secrets' hash
