"""Flatness runs only: route every query to the data set being measured."""

from __future__ import annotations

from typing import Any

ACTIVE = "default"


def use(alias: str) -> None:
    global ACTIVE
    ACTIVE = alias


class SwitchRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return ACTIVE

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return ACTIVE

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True
