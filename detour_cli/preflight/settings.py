"""What preflight checks: one site's settings, named and defaulted as sites/site.yaml's parameters,
and the Route 53 health check those settings make.

A site not yet added is described by options (`--domain`, `--primary-target`, ...), validated with
the template's own AllowedPattern, AllowedValues and Rules, so preflight refuses exactly what the
deploy would refuse. A deployed site is read from its stack's parameters; its health check is read
from Route 53 itself, since that is what the checkers probe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from detour_cli.stack_outputs import DetourError
from detour_cli.template import Resolver, load, parameter_defaults

SITE_TEMPLATE = Path(__file__).resolve().parents[2] / "sites" / "site.yaml"
REGION = "us-east-1"  # Detour's only region: the templates refuse any other
# Parameters preflight takes; each one's option is its name in kebab case (--health-check-port).
PARAMETERS = (
    "DomainName",
    "HostedZoneId",
    "PrimaryKind",
    "PrimaryTarget",
    "PrimaryHostedZoneId",
    "CertificateArn",
    "HealthCheckProtocol",
    "HealthCheckPort",
    "HealthCheckPath",
    "HealthCheckSearchString",
    "HealthCheckInterval",
)
# Checked against the account instead, with a fix: the CertificateArn pattern pins us-east-1 (a
# certificate elsewhere is a failed check, not a usage error), and the zone check says which zone to use.
CHECKED_NOT_VALIDATED = frozenset({"CertificateArn", "HostedZoneId"})


@cache
def site_template() -> dict[str, Any]:
    return load(SITE_TEMPLATE)


def template_parameters() -> dict[str, dict[str, Any]]:
    parameters: dict[str, dict[str, Any]] = site_template()["Parameters"]
    return parameters


def defaults() -> dict[str, str]:
    """The site template's defaults, as CloudFormation would fill them in."""
    return parameter_defaults(site_template())


def option(parameter: str) -> str:
    """DomainName -> --domain-name; preflight names the domain --domain, as the issue does."""
    if parameter == "DomainName":
        return "--domain"
    return "--" + re.sub(r"(?<!^)(?=[A-Z])", "-", parameter).lower()


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """One site's parameters (template defaults filled in), and where they came from."""

    parameters: dict[str, str]
    site_stack: str = ""  # a deployed site's stack; empty for a site not yet added
    distribution_id: str = ""  # a deployed site's own distribution
    health_check_id: str = ""
    deployed_check: dict[str, Any] | None = None  # a deployed site's HealthCheckConfig, from Route 53
    signal_alarms: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def deployed(self) -> bool:
        return bool(self.site_stack)

    @property
    def domain(self) -> str:
        return self.parameters["DomainName"].lower().rstrip(".")

    @property
    def zone_id(self) -> str:
        return self.parameters["HostedZoneId"].rsplit("/", 1)[-1]

    @property
    def primary_kind(self) -> str:
        return self.parameters["PrimaryKind"]

    @property
    def primary_target(self) -> str:
        return self.parameters["PrimaryTarget"].lower().rstrip(".")

    @property
    def primary_zone_id(self) -> str:
        return self.parameters.get("PrimaryHostedZoneId", "")

    @property
    def certificate_arn(self) -> str:
        return self.parameters.get("CertificateArn", "")

    @property
    def health_check(self) -> dict[str, Any]:
        """The HealthCheckConfig Route 53 probes with: the deployed one, or the one the template makes."""
        if self.deployed_check is not None:
            return self.deployed_check
        return planned_health_check(self.parameters)


def planned_health_check(parameters: dict[str, str]) -> dict[str, Any]:
    """sites/site.yaml's HealthCheck resource for these parameters, resolved as CloudFormation would."""
    properties = Resolver(site_template(), parameters).resource("HealthCheck")
    if properties is None:  # the template always has one; a Condition on it would be a template change
        raise DetourError("sites/site.yaml has no HealthCheck for these parameters")
    config = dict(properties["HealthCheckConfig"])
    for key in ("Port", "RequestInterval", "FailureThreshold"):
        if key in config:
            config[key] = int(config[key])
    return config


def validate(parameters: dict[str, str]) -> list[str]:
    """What the template would refuse: each parameter's constraints, then the Rules (region aside)."""
    problems = []
    spec = template_parameters()
    for name, value in parameters.items():
        declared = spec.get(name, {})
        if name in CHECKED_NOT_VALIDATED or not declared:
            continue
        problems += _constraint_problems(name, value, declared)
    if problems:
        return problems
    rules = Resolver(site_template(), parameters).failed_rules()
    return [rule.strip() for rule in rules if "us-east-1" not in rule]


def _constraint_problems(name: str, value: str, declared: dict[str, Any]) -> list[str]:
    described = declared.get("ConstraintDescription") or declared.get("Description", "")
    where = f"{option(name)} {value!r}"
    if "AllowedValues" in declared and value not in [str(v) for v in declared["AllowedValues"]]:
        allowed = ", ".join(str(v) for v in declared["AllowedValues"])
        return [f"{where}: must be one of {allowed}"]
    if "AllowedPattern" in declared and not re.fullmatch(declared["AllowedPattern"], value):
        return [f"{where}: must be {described}"]
    if "MaxLength" in declared and len(value) > int(declared["MaxLength"]):
        return [f"{where}: at most {declared['MaxLength']} characters"]
    if declared.get("Type") == "Number":
        if not re.fullmatch(r"-?[0-9]+", value):
            return [f"{where}: must be a number"]
        low, high = declared.get("MinValue"), declared.get("MaxValue")
        if (low is not None and int(value) < int(low)) or (high is not None and int(value) > int(high)):
            return [f"{where}: must be between {low} and {high}"]
    return []


def required() -> list[str]:
    """The preflight parameters without a default in the template: the options a new site needs."""
    spec = template_parameters()
    return [name for name in PARAMETERS if "Default" not in spec[name]]
