import time, tracemalloc, pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.audit.test_scale import bulk_history
@pytest.mark.django_db
def test_measure(api, world):
    bulk_history(world, 100000)
    t=time.process_time()
    r = api.get("/api/v1/audit-log/", {"format": "csv"}, HTTP_X_API_KEY=world["owner_raw"])
    n=sum(c.count(b"\n") for c in r.streaming_content); print("\nstream cpu", time.process_time()-t, n)
    t=time.process_time()
    for _ in range(20):
        api.get("/api/v1/audit-log/", {"limit": 50}, HTTP_X_API_KEY=world["owner_raw"])
    body = api.get("/api/v1/audit-log/", {"limit": 500}, HTTP_X_API_KEY=world["owner_raw"]).json()
    print("page cpu avg ms", (time.process_time()-t)/21*1000)
    tracemalloc.start()
    r = api.get("/api/v1/audit-log/", {"format": "csv"}, HTTP_X_API_KEY=world["owner_raw"])
    for c in r.streaming_content: pass
    print("peak MB", tracemalloc.get_traced_memory()[1]/1e6)
