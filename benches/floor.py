#!/usr/bin/env python3
"""The floor for the fleet benchmark: the minimal AWS calls for a fleet of N devices,
issued straight through boto3, timed. Run it with a Python that has boto3 (moto's venv:
~/.cache/thingform/moto-venv/bin/python), pointed at the latency proxy.

    floor.py --endpoint http://127.0.0.1:PROXYPORT -n 100 --concurrency 1,10,50

A device is a Thing, an active certificate attached to it, and the certificate attached to
one shared IoT policy: the fleet stack of benches/fleet.sh. For each concurrency C
(1 = one call after another; otherwise a pool of C threads, one device per task, the
device's calls in order), three phases run one after another on a clean account:

  create   CreatePolicy, then per device CreateThing, CreateKeysAndCertificate
           (setAsActive), AttachThingPrincipal, AttachPolicy        (4N+1 calls)
  read     the minimal read set that refreshes the whole fleet: ListThings pages,
           ListCertificates pages (pageSize 250), ListTargetsForPolicy pages,
           ListThingPrincipals per thing, GetPolicy                  (N + pages + 1)
  destroy  per device DetachPolicy, DetachThingPrincipal; then per device
           UpdateCertificate INACTIVE, DeleteCertificate, DeleteThing; then
           DeletePolicy                                               (5N+1 calls)

Prints JSON: {"n", "endpoint", "runs": [{"concurrency", "create": {"seconds", "calls":
{"iot:CreateThing": N, ...}, "total"}, "read": {...}, "destroy": {...}}]}. Calls are
counted client-side per HTTP attempt (retries included).

    floor.py leftovers --endpoint URL [--prefix P]
prints {"things": n, "certificates": n, "policies": n} still in the account (for
checking that a destroy left the emulator clean).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

POLICY_DOC = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["iot:Connect"], "Resource": ["*"]}],
})


class Counted:
    """An IoT client whose HTTP attempts are counted by operation."""

    def __init__(self, endpoint: str, pool: int):
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        cfg = Config(max_pool_connections=max(pool, 10), retries={"mode": "standard", "max_attempts": 5})
        self.iot = boto3.client("iot", endpoint_url=endpoint, config=cfg,
                                region_name=os.environ.get("AWS_REGION", "eu-west-1"),
                                aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
                                aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"))
        self.iot.meta.events.register("before-send", self._count)

    def _count(self, event_name: str = "", **_):
        # event_name: before-send.iot.CreateThing
        parts = event_name.split(".")
        op = f"{parts[1]}:{parts[2]}" if len(parts) >= 3 else event_name
        with self.lock:
            self.counts[op] += 1

    def take(self) -> dict[str, int]:
        with self.lock:
            c = dict(sorted(self.counts.items()))
            self.counts.clear()
        return c


def run_pool(concurrency: int, fn, items):
    if concurrency <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(concurrency) as ex:
        return list(ex.map(fn, items))


def thing_name(prefix: str, i: int) -> str:
    return f"{prefix}-{i}"


def phase_create(c: Counted, n: int, prefix: str, conc: int):
    iot = c.iot
    policy = f"{prefix}-policy"
    iot.create_policy(policyName=policy, policyDocument=POLICY_DOC)

    def device(i):
        name = thing_name(prefix, i)
        iot.create_thing(thingName=name)
        cert = iot.create_keys_and_certificate(setAsActive=True)
        arn = cert["certificateArn"]
        iot.attach_thing_principal(thingName=name, principal=arn)
        iot.attach_policy(policyName=policy, target=arn)
        return cert["certificateId"], arn

    return run_pool(conc, device, range(n))


def _pages(call, token_in, token_out, items_key, **kw):
    out = []
    token = None
    while True:
        args = dict(kw)
        if token:
            args[token_in] = token
        r = call(**args)
        out.extend(r.get(items_key, []))
        token = r.get(token_out)
        if not token:
            return out


def phase_read(c: Counted, n: int, prefix: str, conc: int):
    iot = c.iot
    policy = f"{prefix}-policy"
    tasks = [
        lambda: _pages(iot.list_things, "nextToken", "nextToken", "things", maxResults=250),
        lambda: _pages(iot.list_certificates, "marker", "nextMarker", "certificates", pageSize=250),
        lambda: _pages(iot.list_targets_for_policy, "marker", "nextMarker", "targets",
                       policyName=policy, pageSize=250),
        lambda: iot.get_policy(policyName=policy),
    ]
    tasks += [(lambda name=thing_name(prefix, i): iot.list_thing_principals(thingName=name)["principals"])
              for i in range(n)]
    res = run_pool(conc, lambda t: t(), tasks)
    things, certs, targets = res[0], res[1], res[2]
    attached = sum(1 for p in res[4:] if p)
    return {"things": len(things), "certificates": len(certs), "policy_targets": len(targets),
            "things_with_principal": attached}


def phase_destroy(c: Counted, n: int, prefix: str, conc: int, devices):
    iot = c.iot
    policy = f"{prefix}-policy"

    # Two waves: every attachment first, then certificates and Things. The same calls as
    # one device at a time, but moto's DeleteCertificate scans every remaining Thing
    # attachment against every certificate (quadratic per call), which would make a
    # per-device order cubic in N against the emulator.
    def detach(i):
        _, arn = devices[i]
        iot.detach_policy(policyName=policy, target=arn)
        iot.detach_thing_principal(thingName=thing_name(prefix, i), principal=arn)

    def delete(i):
        cert_id, _ = devices[i]
        iot.update_certificate(certificateId=cert_id, newStatus="INACTIVE")
        iot.delete_certificate(certificateId=cert_id)
        iot.delete_thing(thingName=thing_name(prefix, i))

    run_pool(conc, detach, range(n))
    run_pool(conc, delete, range(n))
    iot.delete_policy(policyName=policy)


def timed(c: Counted, fn, *args):
    c.take()
    t0 = time.perf_counter()
    result = fn(*args)
    secs = time.perf_counter() - t0
    calls = c.take()
    return result, {"seconds": round(secs, 4), "calls": calls, "total": sum(calls.values())}


def leftovers(endpoint: str, prefix: str | None):
    c = Counted(endpoint, 1)
    iot = c.iot
    things = _pages(iot.list_things, "nextToken", "nextToken", "things", maxResults=250)
    certs = _pages(iot.list_certificates, "marker", "nextMarker", "certificates", pageSize=250)
    pols = _pages(iot.list_policies, "marker", "nextMarker", "policies", pageSize=250)
    if prefix:
        things = [t for t in things if t["thingName"].startswith(prefix)]
        pols = [p for p in pols if p["policyName"].startswith(prefix)]
    return {"things": len(things), "certificates": len(certs), "policies": len(pols)}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "leftovers":
        ap = argparse.ArgumentParser(prog="floor.py leftovers")
        ap.add_argument("--endpoint", required=True)
        ap.add_argument("--prefix")
        a = ap.parse_args(sys.argv[2:])
        print(json.dumps(leftovers(a.endpoint, a.prefix)))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True, help="the latency proxy (or the emulator)")
    ap.add_argument("-n", type=int, required=True, help="devices")
    ap.add_argument("--concurrency", default="1", help="comma-separated list, e.g. 1,10,50")
    ap.add_argument("--phases", default="create,read,destroy",
                    help="create always runs; without destroy the fleet is left in the account "
                         "(fleet.sh resets the emulator instead)")
    ap.add_argument("--prefix", default=None, help="name prefix (default: floor-<pid>)")
    a = ap.parse_args()
    phases = set(a.phases.split(","))
    concs = [int(x) for x in a.concurrency.split(",") if x]
    prefix = a.prefix or f"floor-{os.getpid()}"
    out = {"n": a.n, "endpoint": a.endpoint, "runs": []}
    for conc in concs:
        c = Counted(a.endpoint, conc)
        p = f"{prefix}-c{conc}"
        run = {"concurrency": conc}
        devices, run["create"] = timed(c, phase_create, c, a.n, p, conc)
        if "read" in phases:
            seen, run["read"] = timed(c, phase_read, c, a.n, p, conc)
            run["read"]["seen"] = seen
        if "destroy" in phases:
            _, run["destroy"] = timed(c, phase_destroy, c, a.n, p, conc, devices)
        if "create" not in phases:
            del run["create"]
        out["runs"].append(run)
        print(f"floor: n={a.n} concurrency={conc}: " + ", ".join(
            f"{k} {v['seconds']:.2f}s/{v['total']} calls" for k, v in run.items() if isinstance(v, dict)),
            file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
