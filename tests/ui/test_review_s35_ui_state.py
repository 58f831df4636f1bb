"""Review s35 (UI state across links and failed forms), as a demanding user of two orgs:
a page opened for org B (``?organizationId=``, e.g. the answer to a form posted from a tab of
org B after another tab switched to A) keeps org B on every in-app link, filter form and
redirect; failed forms keep what was chosen and say which field is wrong and why."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from orgs.models import OrgMembership
from tests.factories import add_member, make_key, make_tenant

pytestmark = pytest.mark.django_db

# Links that are about the person, not an org (account pages, sign-out, the switcher itself).
NOT_ORG_PAGES = ("/static/", "/accounts/", "/orgs/switch/", "/docs/", "/api/", "data:")
LINK_RE = re.compile(r'<(?:a|form)\b[^>]*?\b(?:href|action)="([^"#][^"]*|)"')


def _org_links(html: str) -> list[str]:
    links = [m.replace("&amp;", "&") for m in LINK_RE.findall(html)]
    return [link for link in links if link and not link.startswith(NOT_ORG_PAGES)]


def _hint(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query).get("organizationId", [])


@pytest.fixture
def two_orgs(world: dict[str, Any], client_for: Any) -> dict[str, Any]:
    """The tenant owner, whose session holds org 1, with a key in each org."""
    client = client_for(world["owner"])
    client.get("/")  # the session's current org: org 1 (the default)
    key2, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org2"], name="org two key")
    return {**world, "client": client, "key2": key2, "b": world["org2"].public_id}


EDIT_FORM = {
    "name": "renamed",
    "expires_in": "keep",
    **{f"perm_{r}": "write" for r in ("organizations", "members", "keys", "audit", "scans")},
}


def _pages(env: dict[str, Any]) -> list[str]:
    key = env["key2"].public_id
    return [
        "/",
        reverse("apikey_list"),
        reverse("apikey_list") + "?status=active",
        reverse("apikey_detail", args=[key]),
        reverse("apikey_edit", args=[key]),
        reverse("apikey_rotate", args=[key]),
        reverse("apikey_revoke", args=[key]),
        reverse("apikey_create"),
        reverse("members"),
        reverse("activity_log"),
        reverse("scan_list"),
        reverse("org_settings"),
        reverse("tenant_settings"),
    ]


def test_every_link_of_a_page_opened_for_org_b_stays_in_org_b(two_orgs: dict[str, Any]) -> None:
    client, b = two_orgs["client"], two_orgs["b"]
    for page in _pages(two_orgs):
        url = f"{page}{'&' if '?' in page else '?'}organizationId={b}"
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Acme Org 2" in html, url
        lost = [link for link in _org_links(html) if _hint(link) != [b]]
        assert not lost, (url, lost)


def test_filter_forms_of_a_page_opened_for_org_b_submit_to_org_b(two_orgs: dict[str, Any]) -> None:
    client, b = two_orgs["client"], two_orgs["b"]
    hidden = f'<input type="hidden" name="organizationId" value="{b}">'
    for page in (reverse("apikey_list"), reverse("activity_log"), reverse("scan_list")):
        html = client.get(f"{page}?organizationId={b}").content.decode()
        assert hidden in html, page


def test_links_stay_plain_when_the_page_shows_the_sessions_org(two_orgs: dict[str, Any]) -> None:
    client = two_orgs["client"]
    html = client.get(reverse("apikey_list")).content.decode()
    assert not [link for link in _org_links(html) if "organizationId=" in link]
    # Switching is the way to change the current org: afterwards plain links show org 2.
    client.post(reverse("org_switch"), {"org": two_orgs["b"], "next": "/keys/"})
    html = client.get(reverse("apikey_list")).content.decode()
    assert "org two key" in html and not [link for link in _org_links(html) if "organizationId=" in link]


def test_redirects_after_key_forms_of_org_b_stay_in_org_b(two_orgs: dict[str, Any]) -> None:
    client, b, key = two_orgs["client"], two_orgs["b"], two_orgs["key2"]
    q = f"?organizationId={b}"
    edited = client.post(reverse("apikey_edit", args=[key.public_id]) + q, EDIT_FORM)
    assert edited.status_code == 302 and _hint(edited["Location"]) == [b], edited.get("Location")
    assert client.get(edited["Location"]).status_code == 200
    done = client.post(reverse("apikey_deactivate", args=[key.public_id]) + q, {"confirm": "on"})
    assert done.status_code == 302 and _hint(done["Location"]) == [b]
    assert client.get(done["Location"]).status_code == 200
    # The list's bulk form acts on the keys of the list it was on (org 2).
    client.post(reverse("apikey_activate", args=[key.public_id]) + q, {"confirm": "on"})
    listing = client.get(reverse("apikey_list") + q).content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" id="bulk-form"', listing).group(1).replace("&amp;", "&")
    confirmed = client.post(action, {"action": "deactivate", "keys": [key.public_id], "confirm": "on", "back": ""})
    key.refresh_from_db()
    assert key.is_active is False
    assert _hint(confirmed["Location"]) == [b]


def test_odd_org_hints_are_a_plain_404_that_leaks_nothing(two_orgs: dict[str, Any], client_for: Any) -> None:
    client = two_orgs["client"]
    other = two_orgs["other_org"]
    unknown = "org-00000000-0000-0000-0000-000000000000"
    bodies = []
    for value in ("abc", "", "%00", other.public_id, unknown, "org-", "1"):
        for page in (reverse("apikey_list"), reverse("members"), reverse("activity_log"), "/"):
            response = client.get(f"{page}?organizationId={value}")
            assert response.status_code in (200, 404), (page, value)
            if response.status_code == 404:
                main = response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
                bodies.append(main)
                assert other.name not in main and "Globex" not in main
    # Another tenant's org answers exactly like an id that does not exist.
    assert len(set(bodies)) == 1


# --- Failed forms keep what was chosen and say why --------------------------------------------------


def _row_select(html: str, name: str) -> str:
    match = re.search(rf'<select name="{name}"[^>]*>.*?</select>', html, re.S)
    assert match is not None, name
    return match.group(0)


def test_a_refused_role_change_says_whose_role_and_why(world: dict[str, Any], client_for: Any) -> None:
    """An org admin's change of a tenant owner's org role (ranked above them; a stale page or a
    hand-made POST) is refused on the members page itself, naming the person and the reason."""
    client = client_for(world["admin"])
    owner_row = add_member(world["org1"], "member", user=world["owner"])
    data = {f"m{owner_row.pk}-role": "viewer", f"m{owner_row.pk}-confirm": "on"}
    refused = client.post(reverse("member_role", args=[owner_row.pk]), data)
    assert refused.status_code == 400
    status = refused.content.decode().split('role="status"', 1)[1].split("</ul>", 1)[0]
    assert world["owner"].email in status and "organization role" in status and "above yours" in status
    assert OrgMembership.objects.get(organization=world["org1"], user=owner_row).role == "member"


def test_an_invalid_role_value_is_refused_in_words_on_the_field(world: dict[str, Any], client_for: Any) -> None:
    member = world["member"]
    client = client_for(world["admin"])
    name = f"m{member.pk}-role"
    refused = client.post(reverse("member_role", args=[member.pk]), {name: "superuser"})
    assert refused.status_code == 400
    html = refused.content.decode()
    error = re.search(rf'id="id_{name}_error"[^>]*>(.*?)</', html, re.S)
    assert error is not None
    for word in ("admin", "member", "viewer"):
        assert word in error.group(1).lower()
    assert member.email in html


def test_a_refused_tenant_role_keeps_the_choice_and_names_the_person(world: dict[str, Any], client_for: Any) -> None:
    """The last tenant owner cannot drop their own owner role: the select keeps the choice."""
    owner = world["owner"]
    client = client_for(owner)
    name = f"t{owner.pk}-tenant_role"
    refused = client.post(reverse("member_tenant_role", args=[owner.pk]), {name: "admin", f"t{owner.pk}-confirm": "on"})
    assert refused.status_code == 400
    html = refused.content.decode()
    select = _row_select(html, name)
    assert re.search(r'<option value="admin"[^>]*selected', select), select
    assert 'aria-invalid="true"' in select
    error = re.search(rf'id="id_{name}_error"[^>]*>(.*?)</', html, re.S)
    assert error is not None and "owner" in error.group(1).lower()


# --- Two tenants: tenant-level pages follow the org the user is in ----------------------------------


def test_sso_settings_open_for_the_tenant_being_looked_at(world: dict[str, Any], client_for: Any) -> None:
    """An owner of two tenants, working in the second, follows "Single sign-on settings" from the
    tenant settings page (or opens the SSO page from the menu): the second tenant's SSO settings,
    not the first tenant's."""
    owner = world["owner"]
    second, _, (second_org,) = make_tenant(name="Initech", owner=owner, orgs=1)
    client = client_for(owner)
    client.post(reverse("org_switch"), {"org": second_org.public_id, "next": "/"})
    settings_page = client.get(reverse("tenant_settings")).content.decode()
    assert "Initech" in settings_page
    link = re.search(r'href="([^"]*)">Single sign-on settings<', settings_page).group(1).replace("&amp;", "&")
    for url in (link, reverse("accounts_sso_settings")):
        page = client.get(url)
        assert page.status_code == 200, url
        selected = re.search(r'<option value="([^"]+)" selected>', page.content.decode())
        assert selected is not None and selected.group(1) == second.public_id, url
    # From a page opened for the first tenant's org (the hint), the link names the first tenant.
    first_page = client.get(reverse("tenant_settings") + f"?organizationId={world['org1'].public_id}").content.decode()
    link = re.search(r'href="([^"]*)">Single sign-on settings<', first_page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query).get("tenant") == [world["tenant"].public_id]


def test_members_page_offers_no_change_that_can_only_be_refused(world: dict[str, Any], client_for: Any) -> None:
    """An org admin sees no role select and no Remove button on the row of someone ranked above
    them (the tenant owner): both could only end in "above yours". Rows they may change keep them."""
    owner, member = world["owner"], world["member"]
    add_member(world["org1"], "member", user=owner)  # the tenant owner also holds an org role
    page = client_for(world["admin"]).get(reverse("members")).content.decode()
    assert f'name="m{owner.pk}-role"' not in page
    assert reverse("member_remove", args=[owner.pk]) not in page
    assert f'name="m{member.pk}-role"' in page and reverse("member_remove", args=[member.pk]) in page
    # The owner outranks everyone: every other row keeps its controls.
    owner_page = client_for(owner).get(reverse("members")).content.decode()
    assert f'name="m{world["admin"].pk}-role"' in owner_page
    assert reverse("member_remove", args=[world["admin"].pk]) in owner_page


def test_losing_the_selected_org_falls_back_with_a_notice(world: dict[str, Any], client_for: Any) -> None:
    """Someone removed from the org they had selected lands in another org they reach, told so
    (not silently shown another org's data as if nothing happened)."""
    admin = world["admin"]
    add_member(world["org2"], "member", user=admin)
    client = client_for(admin)
    client.post(reverse("org_switch"), {"org": world["org2"].public_id, "next": "/"}, follow=True)
    OrgMembership.objects.filter(organization=world["org2"], user=admin).delete()
    page = client.get(reverse("apikey_list"))
    assert page.status_code == 200
    html = page.content.decode()
    status = html.split('role="status"', 1)[1].split("</ul>", 1)[0]
    assert "no longer" in status and "Acme Org 1" in status
    assert "Acme Org 2" not in html  # the lost org is not named (it may be gone or renamed)
    # Told once: the next page is quiet.
    again = client.get(reverse("apikey_list")).content.decode()
    assert "no longer" not in again


def test_switching_from_a_page_opened_for_another_org_stays_on_that_page(two_orgs: dict[str, Any]) -> None:
    """On /members/?organizationId=<B>, switching to org 1 shows org 1's members (the hint is
    the org being left, not a filter of the page), not the dashboard."""
    client, b = two_orgs["client"], two_orgs["b"]
    here = f"{reverse('members')}?organizationId={b}"
    switched = client.post(reverse("org_switch"), {"org": two_orgs["org1"].public_id, "next": here})
    assert switched.status_code == 302 and switched["Location"] == reverse("members")
    # Filters of a list still belong to the org being left: those go to the dashboard.
    filtered = f"{reverse('apikey_list')}?status=active&organizationId={b}"
    switched = client.post(reverse("org_switch"), {"org": two_orgs["org1"].public_id, "next": filtered})
    assert switched["Location"] == "/"


def test_org_links_render_without_a_request() -> None:
    """Django's 400 view renders its template without a request: the tags give plain links."""
    from django.template import Context, Template

    html = Template(
        "{% load org_links %}{% org_url 'apikey_list' status='active' %} {% in_org '/' %}{% org_hidden_input %}"
    )
    assert html.render(Context()) == f"{reverse('apikey_list')}?status=active /"
