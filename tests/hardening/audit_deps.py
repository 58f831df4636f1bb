"""pip-audit on the pinned runtime requirements, honest about an unreachable database.

pip-audit exits 0 with "No known vulnerabilities found" when it could not look a single
package up (every dependency "could not be audited"): that is not a pass. This wrapper
prints ``skipped: vulnerability database unreachable`` (exit 0, or 3 with
``AUDIT_STRICT=1``), fails (exit 1) on any known vulnerability, and lists any package
it could not audit.

Usage: python tests/hardening/audit_deps.py [requirements.txt]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_EXIT = 3


def run_audit(requirements: Path, *, resolve: bool) -> tuple[int, dict[str, object], str]:
    argv = [
        str(Path(sys.executable).with_name("pip-audit")),
        "-r",
        str(requirements),
        "-f",
        "json",
        "--progress-spinner",
        "off",
    ]
    if not resolve:
        argv += ["--no-deps", "--disable-pip"]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)  # noqa: S603 - fixed argv
    try:
        report = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        report = {}
    return result.returncode, report, result.stderr


def main(argv: list[str]) -> int:
    requirements = Path(argv[1]) if len(argv) > 1 else ROOT / "requirements.txt"
    # The full run resolves transitive dependencies (it builds a throwaway venv); pinned
    # top-level requirements alone are audited with AUDIT_NO_DEPS=1.
    resolve = os.environ.get("AUDIT_NO_DEPS") != "1"
    # A quick pinned-only pass first: if the database cannot be reached, say so at once.
    code, report, stderr = run_audit(requirements, resolve=False)
    deps = report.get("dependencies", []) if isinstance(report, dict) else []
    if resolve and any("skip_reason" not in d for d in deps):
        code, report, stderr = run_audit(requirements, resolve=True)
    deps = report.get("dependencies", []) if isinstance(report, dict) else []
    if not deps:
        print(f"pip-audit failed to run (exit {code}): {stderr.strip()[-1000:]}")
        return 1
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']}=={dep['version']}: {vuln['id']} (fixed in: {fixes})")
    if not audited:
        print(
            f"skipped: vulnerability database unreachable ({len(skipped)} packages could not be looked up, "
            f"e.g. {skipped[0]['name']}: {skipped[0]['skip_reason']})"
        )
        return SKIPPED_EXIT if os.environ.get("AUDIT_STRICT") == "1" else 0
    for dep in skipped:
        print(f"not audited: {dep['name']}=={dep.get('version', '?')}: {dep['skip_reason']}")
    if vulnerable:
        return 1
    print(
        f"pip-audit: {len(audited)} packages audited, no known vulnerability"
        + (f", {len(skipped)} not audited" if skipped else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
