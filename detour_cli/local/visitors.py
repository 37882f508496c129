"""The site's visitors: page requests to the primary, the way a browser that resolved the site's name
to it would make them (the site's Host header), counting what they got."""

from __future__ import annotations

import http.client
from collections import Counter
from dataclasses import dataclass, field

PAGES = ("/", "/products/42", "/cart", "/checkout")
TIMEOUT_S = 5.0


@dataclass
class Visits:
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        """Answered 5xx, or not answered at all (status 0)."""
        return sum(n for status, n in self.statuses.items() if status == 0 or status >= 500)

    @property
    def percent_failed(self) -> float:
        return 100.0 * self.failed / self.requests if self.requests else 0.0


def browse(address: str, port: int, host: str, requests: int) -> Visits:
    """`requests` page views, one after another, cycling through a few pages."""
    visits = Visits()
    for n in range(requests):
        connection = http.client.HTTPConnection(address, port, timeout=TIMEOUT_S)
        try:
            connection.request("GET", PAGES[n % len(PAGES)], headers={"Host": host, "User-Agent": "detour-visitor"})
            response = connection.getresponse()
            response.read()
            visits.statuses[response.status] += 1
        except OSError:
            visits.statuses[0] += 1
        finally:
            connection.close()
    return visits
