"""Render the maintenance page (index.html) and its status.json from a `PageStatus`.

The look and every word live in `templates/maintenance.html.j2`: an operator restyles or rewords
the page by editing that file and redeploying, no code change. Jinja2 is imported on first render,
not at module import, so a handler's cold start does not pay for it until it renders.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from detour.incidents.transition import format_time
from detour.incidents.updates import RESOLVED_FOR
from detour.incidents.windows import FailoverWindow
from detour.page.status import PageStatus

TEMPLATE = "maintenance.html.j2"
MAX_PAGE_BYTES = 20 * 1024
HISTORY_LENGTH = 5
POLL_SECONDS = 20  # the page polls status.json this often (backing off on errors)
# The newest updates read for the page. It shows as many of them as fit in MAX_PAGE_BYTES: all ten
# of any real incident's, and at least MIN_UPDATES_SHOWN when every text is the longest allowed in
# the costliest characters (tests/page/test_page_render.py builds that case; `make bench` prints it).
MAX_UPDATES = 10
MIN_UPDATES_SHOWN = 1
MAX_LABEL_CHARS = 60  # the contact link's text (its address is whole in the link)


class PageSettingsError(ValueError):
    """A page setting (stack parameter) is unusable."""


@dataclass(frozen=True, slots=True)
class PageSettings:
    """The stack parameters the page shows: whose site it is, who to contact, what to say by default."""

    site_name: str
    default_message: str
    contact_url: str = ""

    def __post_init__(self) -> None:
        if not self.site_name.strip():
            raise PageSettingsError("the page needs a site name (stack parameter SiteName or DomainName)")
        if self.contact_url and urlsplit(self.contact_url).scheme not in ("https", "mailto"):
            # Jinja escapes the URL, but a javascript: or data: URL would still run when clicked.
            raise PageSettingsError(f"contact URL {self.contact_url!r} must start with https:// or mailto:")

    @property
    def contact_label(self) -> str:
        parts = urlsplit(self.contact_url)
        label = parts.path if parts.scheme == "mailto" else (parts.netloc + parts.path).rstrip("/")
        return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class RenderedPage:
    status: PageStatus  # as shown: the updates that fit, the rest counted as earlier
    page: str  # index.html
    status_json: bytes  # status.json, describing exactly what the page shows


def render(status: PageStatus, history: Sequence[FailoverWindow], settings: PageSettings) -> RenderedPage:
    """The page and its status.json, with the oldest updates left out (and counted as earlier)
    until the page fits in MAX_PAGE_BYTES. status.json lists the same updates as the page."""
    page = render_page(status, history, settings)
    while len(page.encode()) > MAX_PAGE_BYTES and status.updates:
        status = status.without_oldest_update()
        page = render_page(status, history, settings)
    return RenderedPage(status=status, page=page, status_json=render_status(status))


def render_page(status: PageStatus, history: Sequence[FailoverWindow], settings: PageSettings) -> str:
    """index.html. Planned maintenance is not an outage: it is not listed under "Recent outages"."""
    return str(
        _template().render(
            site=settings,
            status=status,
            status_json=status.to_json(texts=False),  # the messages are in the HTML already
            history=[window for window in history if not window.planned],
            poll_seconds=POLL_SECONDS,
            resolved_for_seconds=int(RESOLVED_FOR.total_seconds()),
        )
    )


def render_status(status: PageStatus) -> bytes:
    return json.dumps(status.to_json(), separators=(",", ":")).encode()


def utc(moment: datetime | None) -> str:
    """`2026-11-21 02:14 UTC`: what the page shows before (or without) its script."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def duration(seconds: float | None) -> str:
    """`2 h 5 min`, `12 min`, `under a minute`. The page's script formats the live value the same way."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} days"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def compact(code: str) -> str:
    """The page's own script or style without indentation and whole-line `//` comments: the
    template stays readable, the page's 20 KB go to what it says."""
    lines = (line.strip() for line in code.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


@functools.cache
def _template() -> Any:
    import jinja2  # noqa: PLC0415 - deliberately lazy, see the module docstring

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("detour.page", "templates"),
        autoescape=True,  # every value is text; nothing from an alarm or an operator becomes markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # tojson still escapes < > & ' for HTML; UTF-8 as is keeps non-Latin text from costing 6-12 bytes
    # a character in the embedded status, which the page's 20 KB budget counts.
    environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    environment.filters.update(utc=utc, duration=duration, iso=format_time, compact=compact)
    return environment.get_template(TEMPLATE)
