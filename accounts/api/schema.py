"""OpenAPI documentation of this app's views that carry no schema annotations
(SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"] runs ``preprocess_endpoints``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes

from tater.api.schema import documentation_hook, documented, error_response


def _register() -> None:
    from accounts.api import serializers as acc
    from apikeys.api import serializers as keys

    documented(
        "accounts.api.views.LoginView",
        post={
            "request": acc.LoginInput,
            "responses": {
                200: acc.LoginOutput,
                401: error_response(401, sign_in=True),
                403: error_response(403, sign_in=True),
            },
        },
    )
    documented(
        "accounts.api.views.VerifyTwoFactorView",
        post={"request": acc.VerifyInput, "responses": {200: acc.LoginOutput, 401: error_response(401, sign_in=True)}},
    )
    documented(
        "accounts.api.views.LogoutView", post={"request": None, "responses": {204: None, 401: error_response(401)}}
    )
    documented("accounts.api.views.MeView", get={"responses": {200: OpenApiTypes.OBJECT}})
    documented(
        "accounts.api.views.TokenExchangeView",
        post={
            "request": acc.TokenExchangeInput,
            "responses": {
                201: keys.IssuedKeyOutput,
                401: error_response(401, sign_in=True),
                403: error_response(403, sign_in=True),
            },
        },
    )


preprocess_endpoints = documentation_hook(_register)
