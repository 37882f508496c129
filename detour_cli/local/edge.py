"""The maintenance distribution, played locally: an HTTP server in front of the emulated bucket that
does what the CloudFront distribution does with its two CloudFront Functions, its custom error
responses and its response-headers policy. Each site's distribution reads its own prefix of the hub's
page bucket (its OriginPath, sites/<site id>/); the local edge is given the same prefix.

The functions are ported from edge/*.js (a test runs both on the same events and compares them).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.exceptions import ClientError

STATUS = "/status.json"
PAGE = "/index.html"
METADATA = "x-amz-meta-"  # how S3 serves object metadata: Detour's own, never passed on by the function
RETRY_AFTER_HEADER = "x-amz-meta-retry-after"  # S3 serves the object metadata retry-after as this header
DEFAULT_RETRY_AFTER = "120"
SECONDS = re.compile(r"[0-9]{1,6}")


def viewer_request(uri: str) -> str:
    """edge/viewer-request.js: every path is the page, except the status it polls."""
    return uri if uri == STATUS else PAGE


def viewer_response(uri: str, status: int, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """edge/viewer-response.js: the page is a 503 with the Retry-After its object carries (metadata
    retry-after), never passed on as such; nothing is stored by browsers. `headers`: lower-case names."""
    stored = headers.get(RETRY_AFTER_HEADER)
    headers = {name: value for name, value in headers.items() if not name.startswith(METADATA)}
    headers["cache-control"] = "no-store"
    if uri != STATUS:
        status = 503
        headers["retry-after"] = stored if stored is not None and SECONDS.fullmatch(stored) else DEFAULT_RETRY_AFTER
    return status, headers


@dataclass
class EdgeResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class LocalEdge:
    """One site's distribution. `origin_path`: the site's prefix in the bucket, as `sites/<site id>/`
    or CloudFront's OriginPath form `/sites/<site id>` (both mean the same)."""

    def __init__(self, bucket: str, origin_path: str, policy_headers: dict[str, tuple[str, bool]]) -> None:
        self.bucket = bucket
        self.prefix = f"{origin_path.strip('/')}/" if origin_path.strip("/") else ""
        self.policy_headers = policy_headers
        self._s3 = boto3.client("s3")  # made once, here: boto3 sessions are not thread-safe
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-edge", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def get(self, path: str) -> EdgeResponse:
        uri = viewer_request(path.split("?", 1)[0])
        try:
            status, headers, body = 200, *self._origin(uri)
            # A viewer-response function does not run when the origin answered >= 400.
            status, headers = viewer_response(uri, status, headers)
        except ClientError:
            # Custom error responses: the origin's 403/404 becomes the page, as a 503, with the page's
            # own headers (its x-amz-meta-* included: no viewer-response function runs on an error).
            headers, body = self._origin(PAGE)
            status = 503
        return EdgeResponse(status, with_policy(headers, self.policy_headers), body)

    def _origin(self, uri: str) -> tuple[dict[str, str], bytes]:
        found = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + uri.lstrip("/"))
        headers = {"content-type": found.get("ContentType", "application/octet-stream")}
        if found.get("CacheControl"):
            headers["cache-control"] = found["CacheControl"]
        for name, value in found.get("Metadata", {}).items():  # as S3 serves user metadata
            headers[f"x-amz-meta-{name.lower()}"] = value
        return headers, found["Body"].read()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        edge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(edge.get(self.path), body=True)

            def do_HEAD(self) -> None:
                self._send(edge.get(self.path), body=False)

            def _send(self, response: EdgeResponse, body: bool) -> None:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(response.body)))
                self.end_headers()
                if body:
                    self.wfile.write(response.body)

        return Handler


def with_policy(headers: dict[str, str], policy: dict[str, tuple[str, bool]]) -> dict[str, str]:
    """The response headers after the policy: a header it overrides is replaced; one it does not
    override is added only where the response has none (the site's own Retry-After stays)."""
    merged = dict(headers)
    for name, (value, override) in policy.items():
        if override or name not in merged:
            merged[name] = value
    return merged


def policy_headers(policy: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """The headers a ResponseHeadersPolicyConfig sets (the parts the template uses), each with
    whether it overrides the response's own."""
    headers: dict[str, tuple[str, bool]] = {}
    security = policy.get("SecurityHeadersConfig", {})
    if "ContentSecurityPolicy" in security:
        csp = security["ContentSecurityPolicy"]
        headers["content-security-policy"] = (csp["ContentSecurityPolicy"], bool(csp.get("Override")))
    if "ContentTypeOptions" in security:
        headers["x-content-type-options"] = ("nosniff", bool(security["ContentTypeOptions"].get("Override")))
    if "FrameOptions" in security:
        frame = security["FrameOptions"]
        headers["x-frame-options"] = (frame["FrameOption"], bool(frame.get("Override")))
    if "ReferrerPolicy" in security:
        referrer = security["ReferrerPolicy"]
        headers["referrer-policy"] = (referrer["ReferrerPolicy"], bool(referrer.get("Override")))
    for item in policy.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"].lower()] = (str(item["Value"]), bool(item.get("Override")))
    return headers
