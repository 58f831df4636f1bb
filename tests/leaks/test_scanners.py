"""Scanners recognise Tater keys (SPEC §14): the detect-secrets plugin and the gitleaks rules
in scanners/, run over a fixture tree of .py/.env/.json/.yaml files holding keys of every
type beside look-alikes (bare 32-hex strings, 31 and 33 hex digits, uppercase hex, prefixes
glued to other words). Every key is found; no look-alike is.

detect-secrets runs for real, as its command line (the documented invocation). gitleaks is
a Go binary this machine does not have: its rules file is loaded with tomllib and each
rule's regex applied with Python's re (the rules keep to the syntax RE2 and re share; with
re.ASCII, \\b means what it means in RE2).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN = Path("scanners/detect_secrets_tater.py")
GITLEAKS_RULES = REPO / "scanners" / "gitleaks.toml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TREE = FIXTURES / "tree"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
SECRET_TYPE = "Tater API key"
# detect-secrets drops every line shaped like `x = call(... "secret" ...)` by default; the
# documented invocation turns that filter off (docs/leaked-keys.md).
INDIRECT_REFERENCE_FILTER = "detect_secrets.filters.heuristic.is_indirect_reference"
PREFIX_VARIABLES = [v for v in os.environ if v.startswith("TATER_KEY_PREFIX_")]


def found(keys: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(path, key) for path, values in keys.items() for key in values}


def default_keys() -> set[tuple[str, str]]:
    return found(EXPECTED["keys"])


def sha1(value: str) -> str:
    return hashlib.sha1(value.encode()).hexdigest()  # detect-secrets' hashed_secret


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PREFIX_VARIABLES}
    env.update(extra)
    return env


def detect_secrets_scan(*options: str, env: dict[str, str] | None = None) -> set[tuple[str, str]]:
    """(file, hashed secret) of every Tater key detect-secrets reports in the fixture tree."""
    # Run from the repository root with the plugin's relative path, as the docs say.
    command = [
        sys.executable,
        "-m",
        "detect_secrets",
        "scan",
        "--all-files",
        "--plugin",
        str(PLUGIN),
        *options,
        str(TREE.relative_to(REPO)),
    ]
    result = subprocess.run(command, cwd=REPO, env=env or clean_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    baseline = json.loads(result.stdout)
    assert {"name": "TaterKeyDetector", "path": f"file://{REPO / PLUGIN}"} in baseline["plugins_used"]
    prefix = str(TREE.relative_to(REPO)) + "/"
    return {
        (filename.removeprefix(prefix), finding["hashed_secret"])
        for filename, findings in baseline["results"].items()
        for finding in findings
        if finding["type"] == SECRET_TYPE
    }


def hashed(keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(path, sha1(key)) for path, key in keys}


class TestDetectSecretsPlugin:
    def test_finds_every_key_and_no_look_alike(self):
        assert detect_secrets_scan("--disable-filter", INDIRECT_REFERENCE_FILTER) == hashed(default_keys())

    def test_default_filters_drop_keys_inside_calls(self):
        # Why the documented invocation disables the filter: without it the key passed in
        # `requests.get(..., headers={"X-API-Key": "ck_…"})` goes unreported.
        missed = found(EXPECTED["indirect_reference"])
        assert detect_secrets_scan() == hashed(default_keys() - missed)

    def test_a_deployments_own_prefix_from_the_environment(self):
        custom = EXPECTED["custom_prefix"]
        env = clean_env(**{custom["variable"]: custom["prefix"]})
        scanned = detect_secrets_scan("--disable-filter", INDIRECT_REFERENCE_FILTER, env=env)
        # The default prefixes stay recognised: keys keep the prefix they were issued with.
        assert scanned == hashed(default_keys() | found(custom["keys"]))

    def test_pre_commit_hook_blocks_a_key(self, tmp_path):
        (key,) = EXPECTED["keys"]["deploy/agent.yaml"][:1]
        staged = tmp_path / "client.py"
        staged.write_text(f'client = Client(api_key="{key}")\n')
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "detect_secrets.pre_commit_hook",
                "--plugin",
                str(REPO / PLUGIN),
                "--disable-filter",
                INDIRECT_REFERENCE_FILTER,
                str(staged),
            ],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1
        assert f"Secret Type: {SECRET_TYPE}" in result.stdout
        assert key not in result.stdout  # the hook names the place, never the secret


def load_rules() -> dict[str, Any]:
    return tomllib.loads(GITLEAKS_RULES.read_text())


def tree_files() -> list[Path]:
    return sorted(p for p in TREE.rglob("*") if p.is_file())


def gitleaks_scan(rules: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """What gitleaks would report over the tree: per rule, skipped unless one of its keywords
    occurs (case-insensitively), then the regex's first group (or whole match)."""
    hits = set()
    for path in tree_files():
        text = path.read_text()
        for rule in rules:
            if not any(k.lower() in text.lower() for k in rule["keywords"]):
                continue
            for m in re.compile(rule["regex"], re.ASCII).finditer(text):
                hits.add((str(path.relative_to(TREE)), m.group(1) if m.re.groups else m.group(0)))
    return hits


# Syntax Python's re has and Go's RE2 refuses (or reads differently).
RE2_UNSUPPORTED = [r"\(\?[=!]", r"\(\?<[=!]", r"\(\?>", r"\\[1-9]", r"[*+?}]\+", r"\\Z", r"\(\?\(", r"\(\?[aLu]"]


class TestGitleaksRules:
    def test_v8_format_extending_the_default_rules(self):
        config = load_rules()
        assert config["extend"] == {"useDefault": True}
        rules = config["rules"]
        assert len({r["id"] for r in rules}) == len(rules) == 4
        for rule in rules:
            assert {"id", "description", "regex", "keywords"} <= set(rule)
            assert rule["keywords"] and all(k == k.lower() for k in rule["keywords"])

    def test_regexes_keep_to_the_syntax_re2_shares(self):
        for rule in load_rules()["rules"]:
            for construct in RE2_UNSUPPORTED:
                assert not re.search(construct, rule["regex"]), (rule["id"], construct)
            re.compile(rule["regex"])

    def test_finds_every_key_and_no_look_alike(self):
        assert gitleaks_scan(load_rules()["rules"]) == default_keys()

    @pytest.mark.parametrize("prefix", ["tater_", "ak_", "ck_", "scim_"])
    def test_each_key_type_has_its_rule(self, prefix):
        key = prefix + "0123456789abcdef" * 2
        matching = [r["id"] for r in load_rules()["rules"] if re.search(r["regex"], f"x = '{key}'", re.ASCII)]
        assert len(matching) == 1

    def test_allowlist_covers_only_the_fixtures(self):
        (path_pattern,) = load_rules()["allowlist"]["paths"]
        for path in tree_files():
            assert re.search(path_pattern, str(path.relative_to(REPO)))
        for other in ("tests/leaks/test_scanners.py", "scanners/gitleaks.toml", "config/tests/leaks/fixtures/x"):
            assert not re.search(path_pattern, other)


def test_the_repository_itself_scans_clean():
    """``gitleaks detect --config scanners/gitleaks.toml`` on Tater's own repository reports
    nothing: keys in tests are built at run time, and the one literal key (the published
    documents' example) is allowlisted by value, as the fixtures are by path."""
    config = load_rules()
    allowed_paths = [re.compile(p) for p in config["allowlist"]["paths"]]
    allowed_values = [re.compile(v) for v in config["allowlist"]["regexes"]]
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    hits = []
    for name in tracked:
        path = REPO / name
        if any(p.search(name) for p in allowed_paths) or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for rule in config["rules"]:
            for m in re.finditer(rule["regex"], text, re.ASCII):
                if not any(v.search(m.group(1)) for v in allowed_values):
                    hits.append((name, rule["id"]))
    assert hits == []
