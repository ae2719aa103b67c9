#!/usr/bin/env python3
"""Loopback HTTP/1.1 reverse proxy that adds a round-trip delay to every AWS call and
counts the calls by operation. Python 3.11 standard library only.

    python3 benches/latency_proxy.py --upstream http://127.0.0.1:PORT --port 0 \
        --latency-ms 30 [--jitter-ms 5] --port-file FILE

The emulator (moto) answers one request at a time in a few milliseconds, so a client's
parallelism barely shows against it. A real AWS round trip is tens of milliseconds; this
proxy sleeps --latency-ms (plus a uniform +-jitter) after reading each request's headers
and before forwarding it, so concurrent clients overlap their waits as they would against
AWS. Every client connection gets its own upstream connection (kept alive), so requests
are forwarded concurrently; request and response bodies are streamed (Content-Length,
chunked, or until close).

Each forwarded request is counted under "<service>:<Operation>", the service being the
SigV4 signing name from the Authorization header's credential scope:
  - JSON protocols (DynamoDB, Logs, ...): the X-Amz-Target header;
  - RPC v2 CBOR: the /service/<S>/operation/<Op> path;
  - Query protocols (IAM, STS, SNS, CloudWatch): Action= in the form body or query string;
  - REST protocols (IoT, IoT data, Lambda, S3): method + path matched against a route
    table below; anything unmatched is counted as "<service> <METHOD> <normalised path>"
    (identifiers replaced by '*').

Control endpoints, answered by the proxy and never forwarded:
  GET  /__proxy/counts   {"iot:CreateThing": 100, ...}
  GET  /__proxy/errors   the same, for responses with status >= 400
  GET  /__proxy/stats    {"counts", "errors", "error_samples" (the last 3 error bodies per
                         operation), "total", "latency_ms", "jitter_ms"}
  POST /__proxy/reset    zero all counters
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sys
from collections import Counter
from urllib.parse import parse_qs, urlsplit

MAX_HEADER = 1 << 20
FORM_BODY_MAX = 4 << 20  # form bodies up to this size are read whole to find Action=
COPY_CHUNK = 1 << 16

# (method, URI template, operation): templates from the AWS service models.
ROUTES: dict[str, list[tuple[str, str, str]]] = {
    "iot": [
        ("PUT", "/thing-groups/addThingToThingGroup", "AddThingToThingGroup"),
        ("PUT", "/thing-groups/removeThingFromThingGroup", "RemoveThingFromThingGroup"),
        ("PUT", "/target-policies/{policyName}", "AttachPolicy"),
        ("POST", "/target-policies/{policyName}", "DetachPolicy"),
        ("POST", "/policy-targets/{policyName}", "ListTargetsForPolicy"),
        ("POST", "/attached-policies/{target}", "ListAttachedPolicies"),
        ("PUT", "/things/{thingName}/principals", "AttachThingPrincipal"),
        ("DELETE", "/things/{thingName}/principals", "DetachThingPrincipal"),
        ("GET", "/things/{thingName}/principals", "ListThingPrincipals"),
        ("GET", "/things/{thingName}/thing-groups", "ListThingGroupsForThing"),
        ("POST", "/things/{thingName}", "CreateThing"),
        ("GET", "/things/{thingName}", "DescribeThing"),
        ("PATCH", "/things/{thingName}", "UpdateThing"),
        ("DELETE", "/things/{thingName}", "DeleteThing"),
        ("GET", "/things", "ListThings"),
        ("GET", "/principals/things", "ListPrincipalThings"),
        ("POST", "/keys-and-certificate", "CreateKeysAndCertificate"),
        ("POST", "/certificates", "CreateCertificateFromCsr"),
        ("POST", "/certificate/register", "RegisterCertificate"),
        ("POST", "/certificate/register-no-ca", "RegisterCertificateWithoutCA"),
        ("GET", "/certificates", "ListCertificates"),
        ("GET", "/certificates/{certificateId}", "DescribeCertificate"),
        ("PUT", "/certificates/{certificateId}", "UpdateCertificate"),
        ("DELETE", "/certificates/{certificateId}", "DeleteCertificate"),
        ("POST", "/policies/{policyName}/version", "CreatePolicyVersion"),
        ("GET", "/policies/{policyName}/version", "ListPolicyVersions"),
        ("GET", "/policies/{policyName}/version/{policyVersionId}", "GetPolicyVersion"),
        ("PATCH", "/policies/{policyName}/version/{policyVersionId}", "SetDefaultPolicyVersion"),
        ("DELETE", "/policies/{policyName}/version/{policyVersionId}", "DeletePolicyVersion"),
        ("POST", "/policies/{policyName}", "CreatePolicy"),
        ("GET", "/policies/{policyName}", "GetPolicy"),
        ("DELETE", "/policies/{policyName}", "DeletePolicy"),
        ("GET", "/policies", "ListPolicies"),
        ("POST", "/thing-types/{thingTypeName}/deprecate", "DeprecateThingType"),
        ("POST", "/thing-types/{thingTypeName}", "CreateThingType"),
        ("GET", "/thing-types/{thingTypeName}", "DescribeThingType"),
        ("DELETE", "/thing-types/{thingTypeName}", "DeleteThingType"),
        ("GET", "/thing-types", "ListThingTypes"),
        ("GET", "/thing-groups/{thingGroupName}/things", "ListThingsInThingGroup"),
        ("POST", "/thing-groups/{thingGroupName}", "CreateThingGroup"),
        ("GET", "/thing-groups/{thingGroupName}", "DescribeThingGroup"),
        ("PATCH", "/thing-groups/{thingGroupName}", "UpdateThingGroup"),
        ("DELETE", "/thing-groups/{thingGroupName}", "DeleteThingGroup"),
        ("GET", "/thing-groups", "ListThingGroups"),
        ("POST", "/rules/{ruleName}", "CreateTopicRule"),
        ("GET", "/rules/{ruleName}", "GetTopicRule"),
        ("PATCH", "/rules/{ruleName}", "ReplaceTopicRule"),
        ("DELETE", "/rules/{ruleName}", "DeleteTopicRule"),
        ("GET", "/rules", "ListTopicRules"),
        ("GET", "/endpoint", "DescribeEndpoint"),
        ("POST", "/provisioning-templates/{templateName}/versions", "CreateProvisioningTemplateVersion"),
        ("GET", "/provisioning-templates/{templateName}/versions", "ListProvisioningTemplateVersions"),
        ("DELETE", "/provisioning-templates/{templateName}/versions/{versionId}", "DeleteProvisioningTemplateVersion"),
        ("POST", "/provisioning-templates", "CreateProvisioningTemplate"),
        ("GET", "/provisioning-templates/{templateName}", "DescribeProvisioningTemplate"),
        ("PATCH", "/provisioning-templates/{templateName}", "UpdateProvisioningTemplate"),
        ("DELETE", "/provisioning-templates/{templateName}", "DeleteProvisioningTemplate"),
        ("GET", "/provisioning-templates", "ListProvisioningTemplates"),
        ("GET", "/tags", "ListTagsForResource"),
        ("POST", "/tags", "TagResource"),
        ("POST", "/untag", "UntagResource"),
    ],
    "iotdata": [
        ("GET", "/api/things/shadow/ListNamedShadowsForThing/{thingName}", "ListNamedShadowsForThing"),
        ("GET", "/things/{thingName}/shadow", "GetThingShadow"),
        ("POST", "/things/{thingName}/shadow", "UpdateThingShadow"),
        ("DELETE", "/things/{thingName}/shadow", "DeleteThingShadow"),
        ("POST", "/topics/{topic}", "Publish"),
    ],
    "lambda": [
        ("POST", "/2015-03-31/functions/{FunctionName}/policy", "AddPermission"),
        ("GET", "/2015-03-31/functions/{FunctionName}/policy", "GetPolicy"),
        ("DELETE", "/2015-03-31/functions/{FunctionName}/policy/{StatementId}", "RemovePermission"),
        ("GET", "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration"),
        ("PUT", "/2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration"),
        ("PUT", "/2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode"),
        ("GET", "/2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction"),
        ("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction"),
        ("DELETE", "/2015-03-31/functions/{FunctionName}", "DeleteFunction"),
        ("POST", "/2015-03-31/functions", "CreateFunction"),
        ("GET", "/2015-03-31/functions", "ListFunctions"),
        ("GET", "/2017-03-31/tags/{Resource+}", "ListTags"),
        ("POST", "/2017-03-31/tags/{Resource+}", "TagResource"),
        ("DELETE", "/2017-03-31/tags/{Resource+}", "UntagResource"),
    ],
}

# S3 (path style): (level, method, subresource) -> operation
S3_OPS = {
    ("service", "GET", ""): "ListBuckets",
    ("bucket", "PUT", ""): "CreateBucket",
    ("bucket", "DELETE", ""): "DeleteBucket",
    ("bucket", "HEAD", ""): "HeadBucket",
    ("bucket", "GET", ""): "ListObjects",
    ("bucket", "GET", "list-type"): "ListObjectsV2",
    ("bucket", "GET", "versions"): "ListObjectVersions",
    ("bucket", "GET", "location"): "GetBucketLocation",
    ("bucket", "GET", "versioning"): "GetBucketVersioning",
    ("bucket", "PUT", "versioning"): "PutBucketVersioning",
    ("bucket", "GET", "tagging"): "GetBucketTagging",
    ("bucket", "PUT", "tagging"): "PutBucketTagging",
    ("bucket", "DELETE", "tagging"): "DeleteBucketTagging",
    ("bucket", "GET", "lifecycle"): "GetBucketLifecycleConfiguration",
    ("bucket", "PUT", "lifecycle"): "PutBucketLifecycleConfiguration",
    ("bucket", "DELETE", "lifecycle"): "DeleteBucketLifecycle",
    ("bucket", "GET", "object-lock"): "GetObjectLockConfiguration",
    ("bucket", "GET", "policy"): "GetBucketPolicy",
    ("bucket", "GET", "acl"): "GetBucketAcl",
    ("bucket", "GET", "encryption"): "GetBucketEncryption",
    ("bucket", "GET", "intelligent-tiering"): "GetBucketIntelligentTieringConfiguration",
    ("bucket", "PUT", "intelligent-tiering"): "PutBucketIntelligentTieringConfiguration",
    ("bucket", "DELETE", "intelligent-tiering"): "DeleteBucketIntelligentTieringConfiguration",
    ("bucket", "POST", "delete"): "DeleteObjects",
    ("object", "GET", ""): "GetObject",
    ("object", "PUT", ""): "PutObject",
    ("object", "DELETE", ""): "DeleteObject",
    ("object", "HEAD", ""): "HeadObject",
}


def _compile_routes():
    compiled: dict[str, list[tuple[str, re.Pattern, str, int]]] = {}
    literals: set[str] = set()
    for svc, routes in ROUTES.items():
        out = []
        for method, tmpl, op in routes:
            parts = []
            nlit = 0
            for seg in tmpl.strip("/").split("/"):
                if seg.startswith("{") and seg.endswith("+}"):
                    parts.append(".+")
                elif seg.startswith("{"):
                    parts.append("[^/]+")
                else:
                    parts.append(re.escape(seg))
                    literals.add(seg)
                    nlit += 1
            out.append((method, re.compile("^/" + "/".join(parts) + "/?$"), op, nlit))
        # most literal segments first, so /things/{x}/principals wins over /things/{x}
        out.sort(key=lambda r: -r[3])
        compiled[svc] = out
    return compiled, literals


COMPILED, LITERALS = _compile_routes()
CRED_RE = re.compile(r"Credential=([^,\s]+)")
SUBRESOURCES = {s for (_, _, s) in S3_OPS if s}


def signing_service(headers: dict[str, str], query: str) -> str:
    auth = headers.get("authorization", "")
    m = CRED_RE.search(auth)
    cred = m.group(1) if m else None
    if cred is None and "X-Amz-Credential" in query:
        vals = parse_qs(query).get("X-Amz-Credential")
        cred = vals[0] if vals else None
    if cred:
        parts = cred.split("/")
        if len(parts) >= 5:
            return parts[3]
    return "unknown"


def normalise_path(path: str) -> str:
    segs = [s for s in path.split("/") if s]
    out = [s if s in LITERALS or re.fullmatch(r"\d{4}-\d{2}-\d{2}", s) else "*" for s in segs]
    return "/" + "/".join(out)


def s3_operation(method: str, path: str, query: str, host: str) -> str:
    segs = [s for s in path.split("/") if s]
    hostname = host.split(":")[0]
    virtual = not re.fullmatch(r"[\d.]+|localhost|\[.*\]", hostname) and hostname.count(".") >= 1 \
        and not hostname.startswith("s3.")
    if virtual:
        segs = [hostname.split(".")[0]] + segs
    level = "service" if not segs else ("bucket" if len(segs) == 1 else "object")
    keys = [k for k in (p.split("=")[0] for p in query.split("&") if p)]
    sub = next((k for k in keys if k in SUBRESOURCES), "")
    if level == "object" and "uploads" in keys:
        return "CreateMultipartUpload"
    if level == "object" and "uploadId" in keys:
        return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload",
                "DELETE": "AbortMultipartUpload"}.get(method, "ListParts")
    if level == "object" and "tagging" in keys:
        return {"GET": "GetObjectTagging", "PUT": "PutObjectTagging",
                "DELETE": "DeleteObjectTagging"}.get(method, f"s3 {method} object?tagging")
    op = S3_OPS.get((level, method, sub))
    if op is None:
        return f"s3 {method} {'/' + '/'.join('*' for _ in segs)}{'?' + sub if sub else ''}"
    return op


def classify(method: str, target: str, headers: dict[str, str], body: bytes | None) -> str:
    split = urlsplit(target)
    path, query = split.path or "/", split.query
    svc = signing_service(headers, query)
    xt = headers.get("x-amz-target")
    if xt:
        return f"{svc}:{xt.rsplit('.', 1)[-1]}"
    m = re.fullmatch(r"/service/[^/]+/operation/([^/]+)", path)
    if m:
        return f"{svc}:{m.group(1)}"
    ctype = headers.get("content-type", "")
    if body is not None and ctype.startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return f"{svc}:{action[0]}"
    if "Action=" in query:
        action = parse_qs(query).get("Action")
        if action:
            return f"{svc}:{action[0]}"
    if svc == "s3":
        op = s3_operation(method, path, query, headers.get("host", ""))
        return op if op.startswith("s3 ") else f"s3:{op}"
    for rmethod, rx, op, _ in COMPILED.get(svc, ()):
        if rmethod == method and rx.match(path):
            return f"{svc}:{op}"
    return f"{svc} {method} {normalise_path(path)}"


class Stats:
    def __init__(self, latency_ms: float, jitter_ms: float):
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.error_samples: dict[str, list[str]] = {}  # op -> the last few "status: body"
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms

    def snapshot(self):
        return {
            "counts": dict(sorted(self.counts.items())),
            "errors": dict(sorted(self.errors.items())),
            "error_samples": dict(sorted(self.error_samples.items())),
            "total": sum(self.counts.values()),
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
        }


class BadRequest(Exception):
    pass


async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    """Reads up to and including the blank line; None on a clean EOF between messages."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise BadRequest("truncated header")
    except asyncio.LimitOverrunError:
        raise BadRequest("header too large")
    return head


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    first = lines[0]
    hdrs = []
    for line in lines[1:]:
        if not line:
            continue
        if ":" not in line:
            raise BadRequest(f"bad header line {line!r}")
        k, v = line.split(":", 1)
        hdrs.append((k.strip(), v.strip()))
    return first, hdrs


def hdict(hdrs: list[tuple[str, str]]) -> dict[str, str]:
    d: dict[str, str] = {}
    for k, v in hdrs:
        lk = k.lower()
        d[lk] = f"{d[lk]}, {v}" if lk in d else v
    return d


def build_head(first: str, hdrs: list[tuple[str, str]]) -> bytes:
    return (first + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs) + "\r\n").encode("latin-1")


async def copy_exact(reader, writer, n: int):
    while n > 0:
        chunk = await reader.read(min(n, COPY_CHUNK))
        if not chunk:
            raise ConnectionError("peer closed mid-body")
        writer.write(chunk)
        n -= len(chunk)
        await writer.drain()


async def copy_chunked(reader, writer):
    """Copies a chunked body verbatim (sizes, data, trailers)."""
    while True:
        line = await reader.readuntil(b"\r\n")
        writer.write(line)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers, up to the empty line
                t = await reader.readuntil(b"\r\n")
                writer.write(t)
                if t == b"\r\n":
                    break
            await writer.drain()
            return
        await copy_exact(reader, writer, size + 2)  # data + CRLF


async def copy_until_close(reader, writer):
    while True:
        chunk = await reader.read(COPY_CHUNK)
        if not chunk:
            return
        writer.write(chunk)
        await writer.drain()


def wants_close(version: str, h: dict[str, str]) -> bool:
    conn = h.get("connection", "").lower()
    if "close" in conn:
        return True
    return version == "HTTP/1.0" and "keep-alive" not in conn


async def respond(writer, status: str, body: bytes, ctype="application/json", close=False):
    hdrs = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
    if close:
        hdrs.append(("Connection", "close"))
    writer.write(build_head(f"HTTP/1.1 {status}", hdrs) + body)
    await writer.drain()


class Proxy:
    def __init__(self, upstream: str, stats: Stats):
        u = urlsplit(upstream)
        if u.scheme != "http":
            raise SystemExit("only http:// upstreams are supported")
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or 80
        self.stats = stats

    def delay(self) -> float:
        s = self.stats
        d = s.latency_ms
        if s.jitter_ms:
            d += random.uniform(-s.jitter_ms, s.jitter_ms)
        return max(d, 0.0) / 1000.0

    async def control(self, method, path, writer, close):
        if path == "/__proxy/counts" and method == "GET":
            await respond(writer, "200 OK", json.dumps(dict(sorted(self.stats.counts.items()))).encode(), close=close)
        elif path == "/__proxy/errors" and method == "GET":
            await respond(writer, "200 OK", json.dumps(dict(sorted(self.stats.errors.items()))).encode(), close=close)
        elif path == "/__proxy/stats" and method == "GET":
            await respond(writer, "200 OK", json.dumps(self.stats.snapshot()).encode(), close=close)
        elif path == "/__proxy/reset" and method == "POST":
            self.stats.counts.clear()
            self.stats.errors.clear()
            self.stats.error_samples.clear()
            await respond(writer, "200 OK", b"{}", close=close)
        else:
            await respond(writer, "404 Not Found", b'{"error":"unknown control endpoint"}', close=close)

    async def handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter):
        up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                try:
                    head = await read_head(creader)
                except BadRequest as e:
                    await respond(cwriter, "400 Bad Request", str(e).encode(), "text/plain", close=True)
                    return
                if head is None:
                    return
                first, hdrs = parse_head(head)
                try:
                    method, target, version = first.split(" ", 2)
                except ValueError:
                    await respond(cwriter, "400 Bad Request", b"bad request line", "text/plain", close=True)
                    return
                h = hdict(hdrs)
                client_close = wants_close(version, h)
                # the request body's framing
                chunked_req = "chunked" in h.get("transfer-encoding", "").lower()
                length = 0 if chunked_req else int(h.get("content-length", "0") or 0)

                path = urlsplit(target).path
                if path.startswith("/__proxy/"):
                    if length:
                        await creader.readexactly(length)
                    await self.control(method, path, cwriter, client_close)
                    if client_close:
                        return
                    continue

                if "100-continue" in h.get("expect", "").lower():
                    # answer the expectation here; upstream gets the body without waiting
                    cwriter.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await cwriter.drain()
                    hdrs = [(k, v) for k, v in hdrs if k.lower() != "expect"]

                body = None
                if (not chunked_req and length <= FORM_BODY_MAX
                        and h.get("content-type", "").startswith("application/x-www-form-urlencoded")):
                    body = await creader.readexactly(length)

                op = classify(method, target, h, body)
                await asyncio.sleep(self.delay())
                self.stats.counts[op] += 1

                if up is None:
                    try:
                        up = await asyncio.open_connection(self.host, self.port, limit=MAX_HEADER)
                    except OSError as e:
                        await respond(cwriter, "502 Bad Gateway", f"upstream: {e}".encode(), "text/plain", close=True)
                        return
                ureader, uwriter = up
                uwriter.write(build_head(first, hdrs))
                if body is not None:
                    uwriter.write(body)
                    await uwriter.drain()
                elif chunked_req:
                    await copy_chunked(creader, uwriter)
                elif length:
                    await copy_exact(creader, uwriter, length)
                await uwriter.drain()

                # the response (skipping interim 1xx responses, which are passed on)
                while True:
                    rhead = await read_head(ureader)
                    if rhead is None:
                        raise ConnectionError("upstream closed before responding")
                    rfirst, rhdrs = parse_head(rhead)
                    rparts = rfirst.split(" ", 2)
                    rversion, status = rparts[0], int(rparts[1])
                    if 100 <= status < 200 and status != 101:
                        cwriter.write(rhead)
                        continue
                    break
                rh = hdict(rhdrs)
                error_body = None
                if status >= 400:
                    self.stats.errors[op] += 1
                    if "chunked" not in rh.get("transfer-encoding", "").lower() \
                            and int(rh.get("content-length", "-1")) in range(0, 65537) and method != "HEAD":
                        error_body = await ureader.readexactly(int(rh["content-length"]))
                    sample = f"{status}: " + (error_body or b"").decode("utf-8", "replace")[:300]
                    self.stats.error_samples.setdefault(op, []).append(sample)
                    del self.stats.error_samples[op][:-3]
                upstream_close = wants_close(rversion, rh)
                no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
                until_close = False
                if not no_body and "chunked" not in rh.get("transfer-encoding", "").lower() \
                        and "content-length" not in rh:
                    until_close = True
                    upstream_close = True
                    if not any(k.lower() == "connection" for k, _ in rhdrs):
                        rhdrs.append(("Connection", "close"))
                    client_close = True
                cwriter.write(build_head(rfirst, rhdrs))
                if no_body:
                    pass
                elif error_body is not None:
                    cwriter.write(error_body)
                elif "chunked" in rh.get("transfer-encoding", "").lower():
                    await copy_chunked(ureader, cwriter)
                elif until_close:
                    await copy_until_close(ureader, cwriter)
                else:
                    await copy_exact(ureader, cwriter, int(rh["content-length"]))
                await cwriter.drain()
                if upstream_close:
                    uwriter.close()
                    up = None
                if client_close or "close" in rh.get("connection", "").lower():
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            print(f"latency_proxy: connection dropped: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            if up is not None:
                up[1].close()
            try:
                cwriter.close()
            except Exception:
                pass


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the emulator")
    ap.add_argument("--host", default="127.0.0.1", help="listen address (loopback only by default)")
    ap.add_argument("--port", type=int, default=0, help="listen port, 0 for a free one")
    ap.add_argument("--latency-ms", type=float, default=30.0, help="delay added before forwarding each request")
    ap.add_argument("--jitter-ms", type=float, default=0.0, help="uniform +-jitter on the delay")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    args = ap.parse_args()

    stats = Stats(args.latency_ms, args.jitter_ms)
    proxy = Proxy(args.upstream, stats)
    server = await asyncio.start_server(proxy.handle, args.host, args.port, limit=MAX_HEADER, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"latency_proxy: 127.0.0.1:{port} -> {args.upstream}, +{args.latency_ms} ms"
          f"{f' +-{args.jitter_ms} ms' if args.jitter_ms else ''}", file=sys.stderr, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
