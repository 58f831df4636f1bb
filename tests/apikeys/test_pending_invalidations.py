"""Invalidations the key store missed wait in the database until a sweep applies them. A
change that arrives on top of one still pending, while a sweep is applying the first, must
not be deleted with it (found by review: the second revocation of an outage was lost, and
the principal shared under the swept generation stayed valid)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from apikeys.models import PendingInvalidation

pytestmark = pytest.mark.django_db


def test_a_change_renewed_after_the_sweep_read_it_survives_the_sweep() -> None:
    PendingInvalidation.record(["a" * 64, "b" * 64])
    pending = PendingInvalidation.oldest(1000)
    assert sorted(d for _, d, _ in pending) == ["a" * 64, "b" * 64]
    PendingInvalidation.record(["b" * 64])  # a second change of b, between read and delete
    PendingInvalidation.applied(pending)
    assert list(PendingInvalidation.objects.values_list("digest", flat=True)) == ["b" * 64]


def test_recording_twice_keeps_one_row() -> None:
    PendingInvalidation.record(["c" * 64])
    PendingInvalidation.record(["c" * 64, "d" * 64])
    assert PendingInvalidation.objects.count() == 2


def test_oldest_first_and_bounded() -> None:
    PendingInvalidation.record(["e" * 64])
    PendingInvalidation.record(["f" * 64])
    pending = PendingInvalidation.oldest(1)
    assert [d for _, d, _ in pending] == ["e" * 64]


def test_a_renewal_from_a_node_whose_clock_is_behind_survives_the_sweep() -> None:
    PendingInvalidation.record(["g" * 64])
    pending = PendingInvalidation.oldest(1000)  # a sweeping node reads the row
    behind = timezone.now() - timedelta(seconds=2)
    with mock.patch("django.utils.timezone.now", return_value=behind):
        PendingInvalidation.record(["g" * 64])  # another node, its clock 2 s behind, renews it
    PendingInvalidation.applied(pending)
    assert PendingInvalidation.objects.filter(digest="g" * 64).exists()
