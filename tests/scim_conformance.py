"""Runs scim2-tester's checks against a running SCIM server and exits 1 when
any check finds the server breaking a requirement of the RFCs (ERROR or
CRITICAL): scim2-tester itself always exits 0.

usage: python tests/scim_conformance.py BASE_URL TOKEN
"""
import collections
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

base, token = sys.argv[1], sys.argv[2]
http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)
results = check_server(SyncSCIMClient(http))
counts = collections.Counter(r.status.name for r in results)
print("checks", len(results), dict(sorted(counts.items())))
broken = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
for r in broken:
    print(r.status.name, r.resource_type, r.title, "|", (r.reason or "")[:300])
sys.exit(1 if broken or not results else 0)
