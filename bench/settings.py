"""The in-process ratio harness's settings: the app's own ``tater.settings``, unchanged,
except for the URLconf, which adds the bench's open view (bench.urls) to the app's URLs.

Nothing here touches the measured path: same middleware, authentication, caches, rate
limits, storages and logging as production. Environment variables (DJANGO_DEBUG=0,
DATABASE_URL, REDIS_URL, ALLOWED_HOSTS...) are read by tater.settings as usual.
"""

from __future__ import annotations

import warnings

from tater.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# WhiteNoise warns (once, at start-up) that collectstatic never ran: no static file is served.
warnings.filterwarnings("ignore", message="No directory at")
