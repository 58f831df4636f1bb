"""README and docs/ as a newcomer follows them: every relative link opens a file of this
repository and every ``#anchor`` a heading of it (GitHub's slugs), and every source path the
text names in backticks (``orgs/policy.py``, ``tests/surfaces/test_seed_examples.py``) exists,
so a moved module or a renamed heading shows up here instead of as a dead end for a reader."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "clients" / "python" / "README.md"]
TOP = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
GENERATED = {"artifacts"}  # written by ./run test


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def _links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_there_are_pages_and_links() -> None:
    assert len(PAGES) > 10 and sum(len(_links(p)) for p in PAGES) > 20


def test_relative_links_and_anchors_resolve() -> None:
    broken = []
    for page in PAGES:
        for link in _links(page):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {link}")
            elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
                broken.append(f"{page.relative_to(ROOT)} -> {link} (no such heading)")
    assert broken == []


def test_named_source_paths_exist() -> None:
    missing = []
    for page in PAGES[:-1]:  # the client's README names paths of its own package
        for path in set(re.findall(r"`([a-z_]+/[\w./-]+\.(?:py|md|json|toml|txt|yaml|yml))`", page.read_text())):
            top = path.split("/", 1)[0]
            if top in TOP and top not in GENERATED and not (ROOT / path).exists():
                missing.append(f"{page.relative_to(ROOT)}: {path}")
    assert missing == []
