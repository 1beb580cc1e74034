"""Run scim2-tester against a running scim2-server.
usage: $VENV/bin/python docs/evidence/scim2-tester-run.py http://127.0.0.1:18080/v2 s3cret
import sys, collections
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server, Status

base, token = sys.argv[1], sys.argv[2]
http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
client = SyncSCIMClient(http)
results = check_server(client)
counts = collections.Counter(r.status.name for r in results)
print("TOTAL", len(results), dict(counts))
for r in results:
    if r.status not in (Status.SUCCESS,):
        print(r.status.name, r.resource_type, r.title, "|", (r.reason or "")[:300])
