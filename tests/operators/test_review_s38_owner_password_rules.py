"""``create_tenant --password`` sets the password of a new owner account. It took any text:
``--password abc`` or ``--password password123`` made a tenant owner (every power over the
tenant, its keys and its members) whose password sign-up, reset and the admin's user form all
refuse (at least 10 characters, not common, not all digits, not like the address). Now the
command refuses such a password with the validators' own words, and creates neither the
account nor the tenant."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from orgs.models import Tenant

pytestmark = pytest.mark.django_db


def create(password: str, email: str = "boss@initech.test") -> tuple[dict, int]:
    out = io.StringIO()
    code = 0
    try:
        call_command(
            "create_tenant", "--name", "Initech", "--owner-email", email, "--password", password, "--json", stdout=out
        )
    except CommandError as exc:
        code = exc.returncode
    return json.loads(out.getvalue().strip().splitlines()[-1]), code


@pytest.mark.parametrize(
    ("password", "words"),
    [("abc", "too short"), ("password123", "too common"), ("80418094171239", "entirely numeric"), ("boss-initech", "")],
)
def test_a_password_the_sign_up_form_refuses_creates_nothing(password: str, words: str) -> None:
    answer, code = create(password)
    assert code == 1
    assert answer["error"] == "VALIDATION_ERROR" and words in answer["message"]
    assert password not in answer["message"]
    assert not Tenant.objects.exists()
    assert not get_user_model().objects.filter(email="boss@initech.test").exists()
    assert not AuditEvent.objects.filter(action__in=["user.created", "tenant.created"]).exists()


def test_a_good_password_signs_the_owner_in() -> None:
    answer, code = create("correct horse battery staple")
    assert code == 0, answer
    owner = get_user_model().objects.get(email="boss@initech.test")
    assert owner.check_password("correct horse battery staple")
    assert Tenant.objects.get(public_id=answer["tenant_id"])
