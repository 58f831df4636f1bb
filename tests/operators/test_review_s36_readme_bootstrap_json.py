"""SPEC §10 / README "Operators": every command prints one JSON object with ``--json``.

``bootstrap_demo --json`` named the demo organizations (and the password) only on the run
that created them: ``./run serve`` runs it with ``--reissue-keys`` on every start, and a
script reading ``organizations`` from that answer got a KeyError once ``var/`` existed. The
answer now has one shape on every run; only ``created`` and ``keys`` differ.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

SHAPE = {"tenant_id", "created", "organizations", "users", "password", "keys"}


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("bootstrap_demo", *args, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db
def test_one_shape_on_every_run(settings):
    settings.DEBUG = True
    first = run()
    again = run()
    reissued = run("--reissue-keys")
    for answer in (first, again, reissued):
        assert set(answer) == SHAPE
        assert answer["organizations"] == first["organizations"]
        assert answer["password"] == "tater-demo-password"
    assert set(first["organizations"]) == {"Contoso", "Fabrikam"}
    assert (first["created"], again["created"], reissued["created"]) == (True, False, False)
    assert again["keys"] == [] and len(reissued["keys"]) == 5
