"""The operator's view (SPEC §12): liveness and readiness probes, Prometheus metrics, JSON
log lines with the request id and no secrets. Core layer: imports no Tater app.

- ``middleware.OperationsMiddleware``: answers ``/healthz``, ``/readyz`` and ``/metrics``;
  counts, times and access-logs every other request.
- ``metrics``: the metric families and the per-request recording.
- ``probes``: the readiness checks (database, Redis), each under a short deadline.
- ``logs``: the JSON and text formatters (request id, redaction of secrets).
- ``gunicorn_conf``: gunicorn settings for Prometheus' multiprocess mode and JSON logs.

See docs/operations.md.
"""
