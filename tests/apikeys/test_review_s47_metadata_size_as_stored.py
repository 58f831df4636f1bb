"""Review s47 (SPEC §14 "Metadata: an optional JSON object (≤ 4 KB) per key, returned by
validate"), as an integrator: the 4 KB hold for what validate returns, on every database.
PostgreSQL stores a JSON number as an exact decimal and writes it back in plain notation, so
``1e300`` comes back as a 1 and 300 zeros: measured as sent (``1e+300``, 6 bytes), 300 such
numbers fit in 4 KB and validate answered ~100 KB per call. The size is measured as stored
(numbers in plain decimal notation), the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"

pytestmark = pytest.mark.django_db


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _create(api: Any, world: dict[str, Any], metadata: Any) -> Any:
    return api.post(KEYS, {"name": "m", "metadata": metadata}, format="json", HTTP_X_API_KEY=world["owner_raw"])


def test_numbers_in_exponent_notation_cannot_grow_metadata_past_4_kb(api: Any, world: dict[str, Any]) -> None:
    metadata = {f"n{i}": 1e300 for i in range(300)}
    assert _size(metadata) <= 4096  # as sent
    r = _create(api, world, metadata)
    if r.status_code == 201:
        returned = api.get(VALIDATE, HTTP_X_API_KEY=r.json()["key"]).json()["metadata"]
        assert _size(returned) <= 4096, f"validate returned {_size(returned)} bytes of metadata"
    assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR"
    assert "metadata" in r.json()["details"]["fields"]


@pytest.mark.parametrize("number", [1e20, 1.5e-7, 12345.678])
def test_a_number_counts_as_written_out(api: Any, world: dict[str, Any], number: float) -> None:
    written = format(Decimal(repr(number)), "f")
    filler = 4096 - len('{"n":,"f":""}') - len(written)
    fits = {"n": number, "f": "x" * filler}
    r = _create(api, world, fits)
    assert r.status_code == 201, r.json()
    returned = api.get(VALIDATE, HTTP_X_API_KEY=r.json()["key"]).json()["metadata"]
    assert returned["f"] == fits["f"] and float(returned["n"]) == number
    r = _create(api, world, {"n": number, "f": "x" * (filler + 1)})
    assert r.status_code == 400 and "metadata" in r.json()["details"]["fields"]


def test_exactly_4_kb_of_utf8_is_accepted_and_one_byte_more_refused(api: Any, world: dict[str, Any]) -> None:
    # "é" is 2 bytes in UTF-8: the limit counts bytes, not characters.
    filler = 4096 - len('{"t":""}') - 2
    r = _create(api, world, {"t": "é" + "x" * filler})
    assert r.status_code == 201, r.json()
    assert _size(api.get(VALIDATE, HTTP_X_API_KEY=r.json()["key"]).json()["metadata"]) == 4096
    r = _create(api, world, {"t": "é" + "x" * (filler + 1)})
    assert r.status_code == 400 and "metadata" in r.json()["details"]["fields"]
