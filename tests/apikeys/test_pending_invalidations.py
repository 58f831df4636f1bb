"""Key changes are kept in the database for ten minutes with the generation each gave its
digest, so that sweeps can give a store that lacks one (down at the time, restarted from a
snapshot, failed over) what it lost. A change on top of a kept one renews it (found by
review: a second revocation during an outage could be lost with the first)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from apikeys.models import PendingInvalidation

pytestmark = pytest.mark.django_db


def test_a_change_on_top_keeps_one_row_with_the_newest_generation() -> None:
    PendingInvalidation.record({"a" * 64: "g1", "b" * 64: "g1"})
    PendingInvalidation.record({"b" * 64: "g2"})
    assert sorted(PendingInvalidation.recent(1000)) == [("a" * 64, "g1"), ("b" * 64, "g2")]
    assert PendingInvalidation.objects.count() == 2


def test_recent_is_newest_first_and_bounded() -> None:
    PendingInvalidation.record({"e" * 64: "1"})
    PendingInvalidation.record({"f" * 64: "2"})
    assert PendingInvalidation.recent(1) == [("f" * 64, "2")]


def test_changes_are_kept_ten_minutes() -> None:
    now = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=now - timedelta(seconds=601)):
        PendingInvalidation.record({"o" * 64: "old"})
    with mock.patch("django.utils.timezone.now", return_value=now - timedelta(seconds=590)):
        PendingInvalidation.record({"k" * 64: "kept"})
    assert PendingInvalidation.recent(1000) == [("k" * 64, "kept")]
    PendingInvalidation.forget_old()
    assert list(PendingInvalidation.objects.values_list("digest", flat=True)) == ["k" * 64]


def test_a_renewal_from_a_node_whose_clock_is_behind_is_kept() -> None:
    PendingInvalidation.record({"g" * 64: "1"})
    behind = timezone.now() - timedelta(seconds=2)
    with mock.patch("django.utils.timezone.now", return_value=behind):
        PendingInvalidation.record({"g" * 64: "2"})  # another node, its clock 2 s behind
    PendingInvalidation.forget_old()
    assert PendingInvalidation.recent(1000) == [("g" * 64, "2")]
