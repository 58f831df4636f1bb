"""Fixtures the review suites share with the suites they extend."""

from tests.surfaces.test_idp_tokens import acme, idp  # noqa: F401 (a loopback IdP and a tenant signing in through it)
