"""Organization settings (rename by who may, read-only for others, audited with channel ui)
and the scan pages (only the current org's scans, filters, paging, 404 across orgs and
tenants, viewers read)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from scans.models import Scan
from scans.services import scan_upload

pytestmark = pytest.mark.django_db

NAME_INPUT = re.compile(r'<input[^>]+name="name"')


def _select(client: Any, org: Any) -> None:
    assert client.post(reverse("org_switch"), {"org": org.public_id, "next": "/"}).status_code == 302


def _scan(
    org: Any,
    *,
    scanner: str = "nmap",
    target: str = "10.0.0.0/24",
    started: datetime | None = None,
    severities: tuple[str, ...] = (),
    **kwargs: Any,
) -> Scan:
    findings = [{"title": f"{severity} finding {i}", "severity": severity} for i, severity in enumerate(severities)]
    return scan_upload(
        organization=org,
        scanner=scanner,
        target=target,
        started_at=started or datetime(2025, 3, 10, 12, 0, tzinfo=UTC),
        findings=findings,
        **kwargs,
    )


# --- Organization settings -------------------------------------------------------------------


def test_org_admin_renames_the_org_and_it_is_audited(world: dict[str, Any], client_for: Any) -> None:
    admin, org = world["admin"], world["org1"]
    client = client_for(admin)
    _select(client, org)
    page = client.get(reverse("org_settings")).content.decode()
    assert org.public_id in page and world["tenant"].name in page and world["tenant"].public_id in page
    assert NAME_INPUT.search(page) and f'value="{org.name}"' in page

    response = client.post(reverse("org_settings"), {"name": "  Acme Field Ops  "})
    assert response.status_code == 302 and response["Location"] == reverse("org_settings")
    org.refresh_from_db()
    assert org.name == "Acme Field Ops"
    event = AuditEvent.objects.get(action="organization.updated", target_id=org.public_id)
    assert event.channel == "ui"
    assert event.actor_user_id == admin.pk
    assert event.organization_id == org.pk
    assert event.changes["name"] == {"from": "Acme Org 1", "to": "Acme Field Ops"}
    assert "Organization renamed to “Acme Field Ops”." in client.get(reverse("org_settings")).content.decode()


def test_tenant_owner_renames_and_an_unchanged_name_writes_nothing(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    _select(client, world["org2"])
    assert client.post(reverse("org_settings"), {"name": "Branch"}).status_code == 302
    world["org2"].refresh_from_db()
    assert world["org2"].name == "Branch"
    assert client.post(reverse("org_settings"), {"name": "Branch"}).status_code == 302
    assert AuditEvent.objects.filter(action="organization.updated", target_id=world["org2"].public_id).count() == 1
    assert "Nothing changed." in client.get(reverse("org_settings")).content.decode()


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_see_the_org_read_only_and_cannot_rename(
    world: dict[str, Any], client_for: Any, role: str
) -> None:
    """Decision: read-only page (200, no form) on GET; a hand-made POST is a 403."""
    org = world["org1"]
    client = client_for(world[role])
    page = client.get(reverse("org_settings"))
    assert page.status_code == 200
    body = page.content.decode()
    assert org.name in body and org.public_id in body
    assert not NAME_INPUT.search(body) and "Save name" not in body
    assert "Only tenant owners/admins and organization admins can rename" in body

    response = client.post(reverse("org_settings"), {"name": "Hijacked"})
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme Org 1"
    assert not AuditEvent.objects.filter(action="organization.updated").exists()


def test_invalid_names_show_inline_errors(world: dict[str, Any], client_for: Any) -> None:
    org = world["org1"]
    client = client_for(world["admin"])
    blank = client.post(reverse("org_settings"), {"name": "   "})
    assert blank.status_code == 400
    body = blank.content.decode()
    assert 'aria-invalid="true"' in body and 'id="id_name_error"' in body and "This field is required." in body

    # The length rule is the service's (orgs.services.org_rename): its error lands on the field.
    too_long = client.post(reverse("org_settings"), {"name": "x" * 201})
    assert too_long.status_code == 400
    body = too_long.content.decode()
    assert re.search(r'id="id_name_error"><li>Organization name must be at most 200 characters</li>', body)
    assert 'aria-invalid="true"' in body
    org.refresh_from_db()
    assert org.name == "Acme Org 1"
    assert not AuditEvent.objects.filter(action="organization.updated").exists()


def test_org_settings_of_another_tenant_is_404(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    other = world["other_org"]
    assert client.get(reverse("org_settings"), {"organizationId": other.public_id}).status_code == 404
    response = client.post(f"{reverse('org_settings')}?organizationId={other.public_id}", {"name": "Mine now"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.name == "Globex Org 1"


# --- Scans -----------------------------------------------------------------------------------


def test_scan_list_shows_only_the_current_orgs_scans(world: dict[str, Any], client_for: Any) -> None:
    _scan(world["org1"], target="acme-one.example", severities=("critical", "high", "high"))
    _scan(world["org2"], target="acme-two.example")
    _scan(world["other_org"], target="globex.example")
    client = client_for(world["owner"])
    _select(client, world["org1"])
    body = client.get(reverse("scan_list")).content.decode()
    assert "acme-one.example" in body
    assert "acme-two.example" not in body and "globex.example" not in body
    assert "1 critical" in body and "2 high" in body
    _select(client, world["org2"])
    body = client.get(reverse("scan_list")).content.decode()
    assert "acme-two.example" in body and "acme-one.example" not in body


def test_scan_list_filters(world: dict[str, Any], client_for: Any) -> None:
    org = world["org1"]
    _scan(
        org,
        scanner="nmap",
        target="march-9.example",
        started=datetime(2025, 3, 9, 23, 0, tzinfo=UTC),
        severities=("low",),
    )
    _scan(
        org,
        scanner="nmap",
        target="march-10.example",
        started=datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
        severities=("critical",),
    )
    _scan(org, scanner="nessus", target="march-11.example", started=datetime(2025, 3, 11, 0, 0, tzinfo=UTC))
    client = client_for(world["viewer"])
    url = reverse("scan_list")

    def targets(**params: str) -> set[str]:
        response = client.get(url, params)
        assert response.status_code == 200
        return set(re.findall(r"march-\d+\.example", response.content.decode()))

    assert targets() == {"march-9.example", "march-10.example", "march-11.example"}
    assert targets(scanner="nessus") == {"march-11.example"}
    assert targets(severity="critical") == {"march-10.example"}
    assert targets(scanner="nmap", severity="low") == {"march-9.example"}
    # Whole days; "until" includes its day.
    assert targets(since="2025-03-10") == {"march-10.example", "march-11.example"}
    assert targets(until="2025-03-10") == {"march-9.example", "march-10.example"}
    assert targets(since="2025-03-10", until="2025-03-10") == {"march-10.example"}
    # The scanner select offers only this org's scanners.
    _scan(world["other_org"], scanner="globex-secret-scanner")
    assert "globex-secret-scanner" not in client.get(url).content.decode()

    empty = client.get(url, {"severity": "high"}).content.decode()
    assert "No scans match these filters" in empty and 'href="/scans/"' in empty
    bad = client.get(url, {"since": "2025-03-11", "until": "2025-03-10"})
    assert bad.status_code == 400
    assert "Must be on or after" in bad.content.decode() and "march-" not in bad.content.decode()
    assert client.get(url, {"scanner": "globex-secret-scanner"}).status_code == 400


def test_scan_list_pages(world: dict[str, Any], client_for: Any) -> None:
    org = world["org1"]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(27):
        _scan(
            org, scanner="nmap" if i % 2 else "zap", target=f"host-{i:02d}.example", started=start + timedelta(hours=i)
        )
    client = client_for(world["member"])
    first = client.get(reverse("scan_list")).content.decode()
    assert "Page 1 of 2" in first and "host-26.example" in first and "host-01.example" not in first
    second = client.get(reverse("scan_list"), {"page": "2"}).content.decode()
    assert set(re.findall(r"host-\d+\.example", second)) == {"host-00.example", "host-01.example"}
    # Paging keeps the filters.
    filtered = client.get(reverse("scan_list"), {"since": "2025-01-01"}).content.decode()
    assert 'href="?since=2025-01-01&amp;page=2"' in filtered
    zap = client.get(reverse("scan_list"), {"scanner": "zap"}).content.decode()
    assert "Page 1 of" not in zap and len(set(re.findall(r"host-\d+\.example", zap))) == 14


def test_scan_detail_and_cross_org_404(world: dict[str, Any], client_for: Any) -> None:
    mine = _scan(
        world["org1"],
        target="db.acme.example",
        severities=("info", "critical", "medium"),
        uploaded_by_user=world["owner"],
        uploaded_by_key_id=world["owner_key"].public_id,
    )
    sibling = _scan(world["org2"], target="sibling.example")
    foreign = _scan(world["other_org"], target="globex.example")
    client = client_for(world["owner"])
    _select(client, world["org1"])
    response = client.get(reverse("scan_detail", args=[mine.public_id]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "db.acme.example" in body and mine.public_id in body
    # Most severe first.
    assert body.index("critical finding 1") < body.index("medium finding 2") < body.index("info finding 0")
    # The owner can see the uploading key: name and prefix, linked.
    assert "owner key" in body and reverse("apikey_detail", args=[world["owner_key"].public_id]) in body

    assert client.get(reverse("scan_detail", args=[foreign.public_id])).status_code == 404
    assert client.get(reverse("scan_detail", args=[sibling.public_id])).status_code == 404  # not the current org
    assert client.get(reverse("scan_detail", args=["scan-does-not-exist"])).status_code == 404
    # Naming the other tenant's org does not help.
    response = client.get(
        reverse("scan_detail", args=[foreign.public_id]), {"organizationId": world["other_org"].public_id}
    )
    assert response.status_code == 404


def test_viewer_reads_scans_without_seeing_other_peoples_keys(world: dict[str, Any], client_for: Any) -> None:
    scan = _scan(
        world["org1"],
        target="viewer.example",
        severities=("high",),
        uploaded_by_user=world["owner"],
        uploaded_by_key_id=world["owner_key"].public_id,
    )
    client = client_for(world["viewer"])
    listing = client.get(reverse("scan_list"))
    assert listing.status_code == 200 and "viewer.example" in listing.content.decode()
    detail = client.get(reverse("scan_detail", args=[scan.public_id]))
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "high finding 0" in body and world["owner"].email in body
    # Only the key id, not its name or a link (the viewer cannot open the owner's key).
    assert world["owner_key"].public_id in body and "owner key" not in body


def test_scans_empty_state_points_to_the_upload_snippet(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    _select(client, world["org2"])
    body = client.get(reverse("scan_list")).content.decode()
    assert "No scans uploaded yet" in body and "POST /api/scans/upload" in body
    assert 'href="/docs/api/#h-examples"' in body


def test_new_pages_need_sign_in(client: Any) -> None:
    for url in (reverse("org_settings"), reverse("scan_list"), reverse("scan_detail", args=["scan-x"])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nav_titles_and_no_inline_script(world: dict[str, Any], client_for: Any) -> None:
    scan = _scan(world["org1"], severities=("low",))
    client = client_for(world["owner"])
    _select(client, world["org1"])
    for url in (reverse("org_settings"), reverse("scan_list"), reverse("scan_detail", args=[scan.public_id])):
        body = client.get(url).content.decode()
        assert re.search(r"<title>[^<]+ · Tater</title>", body), url
        assert 'href="#main"' in body
        assert "<script>" not in body and " style=" not in body, url  # the CSP forbids inline script/style
        assert f'href="{reverse("scan_list")}"' in body and f'href="{reverse("org_settings")}"' in body
    settings_page = client.get(reverse("org_settings")).content.decode()
    assert f'href="{reverse("org_settings")}" aria-current="page"' in settings_page
    assert f'href="{reverse("tenant_settings")}" aria-current="page"' not in settings_page
    scans_page = client.get(reverse("scan_list")).content.decode()
    assert f'href="{reverse("scan_list")}" aria-current="page"' in scans_page
