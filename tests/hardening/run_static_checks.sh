#!/usr/bin/env bash
# Static and dependency checks: ruff (lint), bandit (medium and high findings; config in
# pyproject.toml [tool.bandit]; a finding may only stay with `# nosec BXXX - reason`),
# pip-audit on the pinned runtime requirements (says "skipped: vulnerability database
# unreachable" when it could not look anything up, instead of passing silently).
set -uo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
status=0
echo "== ruff"
"$VENV/bin/ruff" check . || status=1
echo "== bandit (severity medium and high)"
"$VENV/bin/bandit" -c pyproject.toml -r . --severity-level medium -q || status=1
echo "== pip-audit (requirements.txt)"
"$VENV/bin/python" tests/hardening/audit_deps.py requirements.txt || status=1
exit $status
