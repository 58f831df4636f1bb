import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tater.settings")
_django = get_wsgi_application()

from tater.middleware import refused_charset  # noqa: E402 - needs the settings set up above


def application(environ: dict[str, Any], start_response: Any) -> Any:
    refused_charset(environ)  # before Django builds the request, which decodes the query
    return _django(environ, start_response)
