"""The request context gives audit entries their actor and channel without threading them
through every call."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from audit import registry as A
from audit.models import AuditEvent
from audit.services import audit_record
from orgs.models import Tenant
from tater.urls import urlpatterns as real_patterns


def record_without_actor(request):
    audit_record(action=A.TENANT_UPDATED, tenant=Tenant.objects.get(name="Acme"), changes={"probe": {"to": 1}})
    return HttpResponse("ok")


urlpatterns = [path("probe/", record_without_actor), path("admin/probe/", record_without_actor), *real_patterns]


@pytest.mark.urls("tests.tater.test_context")
@pytest.mark.django_db
@pytest.mark.parametrize("url,channel", [("/probe/", "ui"), ("/admin/probe/", "admin")])
def test_page_writes_carry_the_signed_in_user(world, url, channel):
    client = Client()
    client.force_login(world["owner"])
    assert client.get(url, REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="probe-agent").status_code == 200
    event = AuditEvent.objects.filter(action="tenant.updated").latest("id")
    assert event.channel == channel
    assert event.actor_user_id == world["owner"].pk
    assert event.actor_email == world["owner"].email
    assert (event.ip, event.user_agent) == ("198.51.100.4", "probe-agent")
    assert event.request_id
