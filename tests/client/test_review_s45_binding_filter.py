"""Review s45: ``tater keys get`` prints ``binding  organization`` (the API's value) and
``GET keys/`` filters on ``binding=organization`` (or ``org``; README "Endpoints"), but
``tater keys list --binding organization`` was a usage error (exit 2: only ``org`` and
``unbound`` were choices) and ``keys.list(binding="organization")`` a type error to mypy.
"""

from __future__ import annotations

import re

from tater_client.cli import main


def test_the_binding_the_key_shows_is_a_filter(acme, tater, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)
    shown = tater.keys.get(acme.owner_key.public_id).binding
    assert shown == "organization"
    assert main(["--url", acme.url, "keys", "list", "--binding", shown]) == 0
    listed = re.findall(r"^(key-\S+)", capsys.readouterr().out, re.MULTILINE)
    assert acme.owner_key.public_id in listed
    assert [k.id for k in tater.keys.list(binding="organization").keys] == listed
    assert main(["--url", acme.url, "keys", "list", "--binding", "unbound"]) == 0
    assert acme.owner_key.public_id not in capsys.readouterr().out
