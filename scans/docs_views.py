"""The API reference page (``/docs/api/``): authentication, key binding, the error
catalog (generated from ``tater.api.catalog.ERROR_CATALOG``) and ready-to-paste upload
snippets with the signed-in user's tenant and org ids filled in.

``upload_snippets`` is the one source of the curl, PowerShell and Python snippets; the
test suite runs the Python and curl ones against a live server. Here in ``scans`` (the
page shows the upload payload and reads the caller's orgs); routed by ``scans.docs_urls``.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from orgs.selectors import orgs_reachable_by_user
from orgs.ui import current_access, session_barred
from scans.api.views import PAYLOAD_EXAMPLE
from tater.api.catalog import ERROR_CATALOG

EXAMPLE_KEY_BODY = "3fd88c926edd3a6f66a925de7df4cfe4"
EXAMPLE_KEY = "tater_" + EXAMPLE_KEY_BODY
UPLOAD_PATH = "/api/scans/upload"


def upload_snippets(*, base_url: str, tenant_id: str, org_id: str, api_key: str = EXAMPLE_KEY) -> dict[str, str]:
    """TATER's published upload snippets (seed 000), with host, ids and key filled in."""
    base = base_url.rstrip("/")
    curl = (
        f'curl -X POST "{base}{UPLOAD_PATH}?tenantId={tenant_id}&organizationId={org_id}" \\\n'
        f'  -H "X-API-Key: {api_key}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        "  --data @scan-payload.json\n"
    )
    powershell = (
        f"$apiKey = '{api_key}'\n"
        f"$tenantId = '{tenant_id}'\n"
        f"$orgId = '{org_id}'\n"
        "$headers = @{\n"
        "    'X-API-Key'    = $apiKey\n"
        "    'Content-Type' = 'application/json'\n"
        "}\n"
        "$body = Get-Content -Raw scan-payload.json\n"
        f'$uri = "{base}{UPLOAD_PATH}?tenantId=$tenantId&organizationId=$orgId"\n'
        "$response = Invoke-WebRequest -Uri $uri -Method POST -Headers $headers -Body $body\n"
        "$response.Content | ConvertFrom-Json\n"
    )
    python = (
        "import requests, json\n"
        "\n"
        f"api_key   = '{api_key}'\n"
        f"tenant_id = '{tenant_id}'\n"
        f"org_id    = '{org_id}'\n"
        "\n"
        "with open('scan-payload.json') as f:\n"
        "    payload = json.load(f)\n"
        "\n"
        "r = requests.post(\n"
        f"    '{base}{UPLOAD_PATH}',\n"
        "    params  = {'tenantId': tenant_id, 'organizationId': org_id},\n"
        "    headers = {'X-API-Key': api_key},\n"
        "    json    = payload,\n"
        "    timeout = 60,\n"
        ")\n"
        "r.raise_for_status()\n"
        "print(r.json())\n"
    )
    return {"curl": curl, "powershell": powershell, "python": python}


@login_required
def api_reference(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    # Not the orgs of tenants this session may not reach (the org switcher leaves them out too).
    orgs = list(orgs_reachable_by_user(user=request.user, excluding_tenants=session_barred(request)))
    org = next((o for o in orgs if access.org and o.pk == access.org.pk), None) or (orgs[0] if orgs else None)
    tenant_id = org.tenant.public_id if org else (access.tenant_public_id or "00000000-0000-0000-0000-000000000000")
    org_id = org.public_id if org else "org-00000000-0000-0000-0000-000000000000"
    # This deployment's prefixes (TATER_KEY_PREFIX_*), not the defaults: the keys it issues.
    prefixes = settings.TATER_KEY_PREFIXES
    example_key = prefixes["standard"] + EXAMPLE_KEY_BODY
    snippets = upload_snippets(
        base_url=request.build_absolute_uri("/"), tenant_id=tenant_id, org_id=org_id, api_key=example_key
    )
    context = {
        "org": org,
        "orgs": orgs,
        "tenant_id": tenant_id,
        "org_id": org_id,
        "example_key": example_key,
        "prefixes": prefixes,
        "base_url": request.build_absolute_uri("/").rstrip("/"),
        "snippets": [
            ("curl", "curl", snippets["curl"]),
            ("powershell", "PowerShell", snippets["powershell"]),
            ("python", "Python", snippets["python"]),
        ],
        "payload": json.dumps(PAYLOAD_EXAMPLE, indent=2),
        "catalog": ERROR_CATALOG,
    }
    return render(request, "docs/api_reference.html", context)
