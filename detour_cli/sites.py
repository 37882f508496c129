"""Which site a verb acts on: the hub stack (--stack) says where the registry is, the registry says
which sites there are (--site picks one), and the site's own stack holds its parameters and outputs.

    hub stack (detour)          IncidentsTableName, RefreshPageFunctionName, PageBucketName, ...
      registry (SITES items)    one RegisteredSite per site: id, domain, alarm, distribution, stack
        site stack              DomainName, HostedZoneId, PrimaryKind, PrimaryTarget, HealthCheck*,
        (detour-site-<name>)    outputs HealthCheckId, HealthAlarmName, DistributionDomainName, ...
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from detour.incidents.items import IncidentStoreError
from detour.incidents.sites import RegisteredSite, SiteChoiceError, SiteRegistry, choose_site
from detour_cli.stack_outputs import DetourError, StackOutputs, read_stack

SITE_HELP = (
    "the site: its domain, health check id, site name or site stack (default: the only site; "
    "`detour site list` lists them)"
)


def add_site_argument(parser: argparse.ArgumentParser, help_text: str = SITE_HELP) -> None:
    parser.add_argument("--site", metavar="NAME", help=help_text)


@dataclass
class SiteView:
    """One site as a verb sees it: the hub's outputs, the registry's item, the site stack (read once)."""

    hub: StackOutputs
    site: RegisteredSite
    cloudformation: Any
    _stack: StackOutputs | None = field(default=None, repr=False)

    @property
    def site_id(self) -> str:
        return self.site.site_id

    @property
    def domain(self) -> str:
        return self.site.domain

    @property
    def site_name(self) -> str:
        return self.site.site_name or self.site.domain

    @property
    def alarm_name(self) -> str:
        return self.site.alarm_name

    @property
    def endpoint_check(self) -> str:
        """The health check that probes the primary: what a drill or planned maintenance inverts, and
        what Route 53 calls about the probe ask. Not a DynamoDB key: that stays `site_id` (ADR 0002)."""
        return self.site.endpoint_check

    @property
    def failover_check(self) -> str:
        """What the failover records and the alarm watch: a calculated check when the site has signals."""
        return self.site.failover_check

    @property
    def table(self) -> str:
        return self.hub.output("IncidentsTableName")

    @property
    def stack(self) -> StackOutputs:
        """The site's own stack: its parameters (DomainName, HostedZoneId, ...) and outputs."""
        if self._stack is None:
            self._stack = read_stack(self.cloudformation, self.site.stack_name)
        return self._stack

    def output(self, key: str) -> str:
        return self.stack.output(key)

    def parameter(self, key: str) -> str:
        return self.stack.parameter(key)


def checks_count(site: RegisteredSite) -> int:
    """The site's checks: the endpoint probe and each signal."""
    return 1 + len(site.signals)


def failover_rule(site: RegisteredSite) -> str:
    """When Route 53 sends the site's visitors to its page, in words (ADR 0002's SignalsToFailOver)."""
    checks, needed = checks_count(site), max(1, site.signals_to_fail_over)
    if checks == 1:
        return "fails over when the endpoint probe fails"
    if needed == 1:
        return f"fails over when any check fails (any of {checks})"
    return f"fails over when {needed} of {checks} checks fail"


@dataclass(frozen=True, slots=True)
class Deployment:
    """The hub and every registered site."""

    hub: StackOutputs
    sites: list[RegisteredSite]
    cloudformation: Any

    def view(self, site: RegisteredSite) -> SiteView:
        return SiteView(self.hub, site, self.cloudformation)

    def views(self) -> list[SiteView]:
        return [self.view(site) for site in self.sites]

    def choose(self, name: str | None) -> SiteView:
        try:
            return self.view(choose_site(self.sites, name))
        except SiteChoiceError as error:
            raise DetourError(f"{error} (hub stack {self.hub.name})") from error


def read_deployment(args: argparse.Namespace, session: Any) -> Deployment:
    """The hub stack named by --stack and the sites its registry holds."""
    cloudformation = session.client("cloudformation")
    hub = read_stack(cloudformation, args.stack)
    registry = SiteRegistry(hub.output("IncidentsTableName"), session.client("dynamodb"))
    with registry_errors():
        sites = registry.all()
    return Deployment(hub, sites, cloudformation)


def resolve_site(args: argparse.Namespace, session: Any) -> SiteView:
    """The site --site names (or the only one), with its hub and its stack."""
    return read_deployment(args, session).choose(getattr(args, "site", None))


@contextmanager
def registry_errors() -> Iterator[None]:
    try:
        yield
    except IncidentStoreError as error:
        raise DetourError(str(error)) from error
