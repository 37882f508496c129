"""Fetch the maintenance page the way a visitor's browser does once DNS has moved: HTTPS to an
address Route 53 answered, with the domain as SNI and Host, so CloudFront picks the right
distribution and certificate whatever this machine's resolver says about the domain."""

from __future__ import annotations

import html
import http.client
import re
import socket
import ssl
from dataclasses import dataclass

MAX_BODY = 256 * 1024  # the page is about 9 KB; anything near this is not the page
TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class CertificateError(RuntimeError):
    """The endpoint's certificate does not verify for the domain: retrying will not help."""


@dataclass(frozen=True, slots=True)
class PageResponse:
    address: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: str

    @property
    def title(self) -> str:
        found = TITLE.search(self.body)
        return " ".join(html.unescape(found.group(1)).split()) if found else ""


def tls_context(*, ca_file: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """The system's trust store (or `ca_file`), verifying the domain; `insecure` verifies nothing."""
    context = ssl.create_default_context(cafile=ca_file)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def fetch(
    address: str, domain: str, path: str, *, port: int = 443, context: ssl.SSLContext, timeout: float = 10.0
) -> PageResponse:
    """GET https://domain/path from `address`, with SNI and Host = domain. OSError when unreachable."""
    raw = socket.create_connection((address, port), timeout=timeout)
    try:
        tls = context.wrap_socket(raw, server_hostname=domain)
    except ssl.SSLCertVerificationError as error:
        raw.close()
        raise CertificateError(f"the certificate at {address}:{port} does not verify for {domain}: {error}") from error
    except BaseException:
        raw.close()
        raise
    connection = http.client.HTTPSConnection(domain, port, context=context, timeout=timeout)
    connection.sock = tls  # already connected to the answered address; http.client would resolve the domain
    try:
        connection.request(
            "GET",
            path,
            headers={"Host": domain, "User-Agent": "detour-drill", "Cache-Control": "no-cache", "Accept": "*/*"},
        )
        response = connection.getresponse()
        body = response.read(MAX_BODY).decode("utf-8", errors="replace")
        headers = {name.lower(): value for name, value in response.getheaders()}
        return PageResponse(address, response.status, headers, body)
    except http.client.HTTPException as error:
        raise OSError(f"{type(error).__name__}: {error}") from error
    finally:
        connection.close()
