"""What preflight checks: one site's settings, named and defaulted as sites/site.yaml's parameters,
and the Route 53 health check those settings make.

A site not yet added is described by options (`--domain`, `--primary-target`, ...), validated with
the template's own AllowedPattern, AllowedValues and Rules, so preflight refuses exactly what the
deploy would refuse. A deployed site is read from its stack's parameters; its health check is read
from Route 53 itself, since that is what the checkers probe.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from detour_cli.preflight.result import Result, Status, failed, passed
from detour_cli.stack_outputs import DetourError, find_stack
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
# Rules preflight leaves out, by name: the region is Detour's own (REGION), not one of the site's settings.
RULES_NOT_CHECKED = frozenset({"DeployOnlyInUsEast1"})
# The tests' and the README sample's local setup: loopback primaries and moto's hosted zone ids (which do
# not start with Z). Only this switch lets a non-public primary through (as a warning, not a failure) and
# relaxes the zone id's pattern; nothing real ever sets it.
LOCAL_SETUP_SWITCH = "DETOUR_PREFLIGHT_LOCAL_SETUP"
HEALTH_CHECK = "health-check"
REDEPLOY = "deploy the site stack again (sam deploy --config-file sites/<name>.toml)"
ENDPOINT_KEYS = ("Type", "IPAddress", "FullyQualifiedDomainName", "Port", "ResourcePath")


def local_setup() -> bool:
    """True only when the tests or the README's sample run say so (DETOUR_PREFLIGHT_LOCAL_SETUP=1)."""
    return os.environ.get(LOCAL_SETUP_SWITCH) == "1"


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
    check_problem: Result | None = None  # the deployed health check could not be read: why

    @property
    def dual_stack(self) -> bool:
        """sites/site.yaml's IsDualStack: a load balancer primary and DualStack true."""
        return self.primary_kind == "LoadBalancer" and self.parameters.get("DualStack") == "true"

    @property
    def set_identifiers(self) -> dict[str, str]:
        """The failover records sites/site.yaml makes, by SetIdentifier: {identifier: record type}."""
        stack = self.site_stack
        found = {f"{stack}-primary": "A", f"{stack}-maintenance": "A"}
        if self.dual_stack:
            found |= {f"{stack}-primary-ipv6": "AAAA", f"{stack}-maintenance-ipv6": "AAAA"}
        return found

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


def validate(parameters: dict[str, str], named: Callable[[str], str] = option) -> list[str]:
    """What the template would refuse: each parameter's constraints, then the Rules (region aside).
    `named` says how a parameter is called in the message: its option (default), or its own name."""
    problems = []
    spec = template_parameters()
    for name, value in parameters.items():
        declared = spec.get(name, {})
        if name in CHECKED_NOT_VALIDATED or not declared:
            continue
        problems += _constraint_problems(named(name), value, declared)
    if problems:
        return problems
    return failed_rules(parameters)


def failed_rules(parameters: dict[str, str]) -> list[str]:
    """The AssertDescription of each template Rule these parameters break, but those RULES_NOT_CHECKED names."""
    resolver = Resolver(site_template(), parameters)
    failures = []
    for name, rule in site_template().get("Rules", {}).items():
        if name in RULES_NOT_CHECKED:
            continue
        if "RuleCondition" in rule and not resolver.value(rule["RuleCondition"]):
            continue
        failures += [str(a["AssertDescription"]).strip() for a in rule["Assertions"] if not resolver.value(a["Assert"])]
    return failures


def _constraint_problems(name: str, value: str, declared: dict[str, Any]) -> list[str]:
    described = declared.get("ConstraintDescription") or declared.get("Description", "")
    where = f"{name} {value!r}"
    if "AllowedValues" in declared and value not in [str(v) for v in declared["AllowedValues"]]:
        allowed = ", ".join(str(v) for v in declared["AllowedValues"])
        return [f"{where}: must be one of {allowed}"]
    if "AllowedPattern" in declared and not re.fullmatch(declared["AllowedPattern"], value):
        return [f"{where}: must be {described}"]
    shortest, longest = int(declared.get("MinLength", 0)), declared.get("MaxLength")
    if len(value) < shortest or (longest is not None and len(value) > int(longest)):
        return [
            f"{where}: at {'least ' + str(shortest) if len(value) < shortest else 'most ' + str(longest)} characters"
        ]
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


def deployed_settings(session: Any, view: Any, signal_alarms: tuple[str, ...]) -> SiteSettings:
    """A deployed site's parameters from its stack (the template's defaults for any it does not list)
    and its health check as Route 53 holds it: what the checkers really probe. A check that cannot be
    read is the site's `health-check` result: gone (NoSuchHealthCheck) fails, any other refusal
    (AccessDenied, ...) is an error; the probe then follows the stack's parameters."""
    stack = view.stack
    parameters = {**defaults(), **stack.parameters}
    notes = []
    problem = None
    deployed_check: dict[str, Any] | None = None
    check_id = view.site.endpoint_check  # the probe's check; the site's id is only its first one (ADR 0002)
    try:
        check = session.client("route53").get_health_check(HealthCheckId=check_id)["HealthCheck"]
        deployed_check = check["HealthCheckConfig"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        notes.append(f"health check {check_id} could not be read ({code}): probing as the stack's parameters say")
        if code == "NoSuchHealthCheck":
            problem = failed(
                HEALTH_CHECK,
                f"the stack's health check {check_id} is gone: the site cannot fail over",
                REDEPLOY,
            )
        else:
            problem = Result(
                HEALTH_CHECK,
                Status.ERROR,
                f"could not read health check {check_id}: AWS error {code}: "
                f"{error.response.get('Error', {}).get('Message', error)}",
                fix="allow route53:GetHealthCheck and run preflight again",
            )
    return SiteSettings(
        parameters,
        site_stack=stack.name,
        distribution_id=view.site.distribution_id,
        health_check_id=check_id,
        deployed_check=deployed_check,
        signal_alarms=signal_alarms,
        notes=notes,
        check_problem=problem,
    )


def _endpoint_value(key: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    if key == "Port":
        return str(int(value))
    if key in ("FullyQualifiedDomainName", "IPAddress"):
        return str(value).lower().rstrip(".")
    return str(value)


def endpoint_differences(deployed: dict[str, Any], planned: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, deployed, planned) for each endpoint setting the deployed check does not share with the plan."""
    found = []
    for key in ENDPOINT_KEYS:
        have, want = _endpoint_value(key, deployed.get(key)), _endpoint_value(key, planned.get(key))
        if have != want:
            found.append((key, have or "(none)", want or "(none)"))
    return found


def check_deployed_health_check(settings: SiteSettings) -> Result:
    """A deployed site's health check probes what its stack's parameters say: a check changed by hand (or
    a stack updated without its check) probes something else, and fails over on someone else's outage."""
    if settings.check_problem is not None:
        return settings.check_problem
    deployed = settings.deployed_check or {}
    differences = endpoint_differences(deployed, planned_health_check(settings.parameters))
    if differences:
        return failed(
            HEALTH_CHECK,
            f"health check {settings.health_check_id} does not probe what stack {settings.site_stack}'s parameters "
            "say: " + "; ".join(f"{key} is {have}, not {want}" for key, have, want in differences),
            f"{REDEPLOY}, or change the parameters to what the check should probe",
        )
    return passed(
        HEALTH_CHECK,
        f"health check {settings.health_check_id} probes what stack {settings.site_stack}'s parameters say",
    )


# ------------------------------------------------------------------ a site's SAM CLI config file

CONFIG_ENV = "default"  # the environment `sam deploy --config-file` reads when no --config-env is given
SITE_TEMPLATE_FILE = "sites/site.yaml"
# SAM CLI's own patterns for a parameter_overrides string (samcli.cli.types, SAM CLI 1.170): `Key=Value`
# pairs separated by spaces, a value in double or single quotes keeping its spaces, and the older
# `ParameterKey=K,ParameterValue=V` form; the first pattern that matches anything is the one used.
_SAM_KEY = r"""([A-Za-z0-9\"']+)"""
_SAM_VALUE = r"""("(?:\\.|[^"\\]+)*"|'(?:\\.|[^'\\]+)*'|(?:\\.|[^ "\\]+)+)"""
_SAM_PATTERNS = (
    rf"(?:ParameterKey={_SAM_KEY},ParameterValue={_SAM_VALUE})",
    rf"(?:(?: ){_SAM_KEY}={_SAM_VALUE})",
)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """What `sam deploy --config-file PATH` reads from a site's file: [default.global.parameters], then
    [default.deploy.parameters] over it, as SAM CLI merges them."""

    path: Path
    stack_name: str
    region: str
    profile: str
    template_file: str
    parameters: dict[str, str]  # parameter_overrides, as SAM CLI parses them

    @property
    def names_site_template(self) -> bool:
        """template_file is sites/site.yaml (as written, relative to where sam runs, or that very file)."""
        written = Path(self.template_file)
        return written.as_posix().removeprefix("./") == SITE_TEMPLATE_FILE or written.resolve() == SITE_TEMPLATE


def _unquote(value: str) -> str:
    """SAM CLI's _unquote_wrapped_quotes: drop one pair of wrapping quotes, unescape \\ , \\" and \\'."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value.replace("\\ ", " ").replace('\\"', '"').replace("\\'", "'")


def parse_parameter_overrides(value: Any, where: str = "parameter_overrides") -> dict[str, str]:
    """parameter_overrides as SAM CLI reads it: one space-separated string or a list of them (each
    "Key=Value", quoted values keeping their spaces: 'SiteName="Example Shop"'), or a table; later keys win."""
    if value in (None, "", [], {}):
        return {}
    found: dict[str, str] = {}
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            found |= {str(k): ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in item.items()}
        elif isinstance(item, list):
            found |= parse_parameter_overrides(item, where)
        elif isinstance(item, str):
            if item.startswith("file://"):
                raise DetourError(f"{where}: {item!r}: preflight does not read parameter files; list the values")
            normalized = " " + item.strip()
            for pattern in _SAM_PATTERNS:
                pairs = re.findall(pattern, normalized)
                if pairs:
                    found |= dict(pairs)
                    break
            else:
                raise DetourError(f"{where}: {item!r} is not Key=Value (SAM CLI would refuse it too)")
        else:
            raise DetourError(f"{where}: {item!r} is not Key=Value")
    return {_unquote(k): _unquote(v) for k, v in found.items()}


def read_config(path: Path) -> SiteConfig:
    """A site's SAM CLI config file (sites/<name>.toml). A file that cannot be read is a DetourError."""
    import tomllib  # noqa: PLC0415

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DetourError(f"no config file {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DetourError(f"{path}: cannot read it as TOML: {error}") from error
    environment = document.get(CONFIG_ENV, {})
    merged: dict[str, Any] = {}
    for section in ("global", "deploy"):
        table = environment.get(section, {}).get("parameters", {}) if isinstance(environment, dict) else {}
        if isinstance(table, dict):
            merged |= table
    if not merged:
        raise DetourError(f"{path}: no [{CONFIG_ENV}.deploy.parameters] table: is it a copy of sites/example.toml?")
    return SiteConfig(
        path=path,
        stack_name=str(merged.get("stack_name", "")),
        region=str(merged.get("region", "")),
        profile=str(merged.get("profile", "")),
        template_file=str(merged.get("template_file", "")),
        parameters=parse_parameter_overrides(merged.get("parameter_overrides"), f"{path}: parameter_overrides"),
    )


def config_problems(parameters: dict[str, str]) -> list[str]:
    """What CloudFormation would refuse in a config file's parameters: names the template does not
    declare, required ones left out, then each value's constraints and the Rules (validate)."""
    spec = template_parameters()
    unknown = [name for name in parameters if name not in spec]
    if unknown:
        return [f"sites/site.yaml has no parameter {', '.join(unknown)}"]
    missing = [name for name, declared in spec.items() if "Default" not in declared and not parameters.get(name)]
    if missing:
        return [f"no value for {', '.join(missing)} (sites/site.yaml has no default for it)"]
    return validate(parameters, named=lambda name: name)


def _existing_stack(cloudformation: Any, name: str) -> Any:
    """The stack as describe_stacks shows it, or None when there is none (or only a change set never
    executed: sam deploy creates that stack anew)."""
    stack = find_stack(cloudformation, name)
    return None if stack is None or stack.get("StackStatus") == "REVIEW_IN_PROGRESS" else stack


def config_settings(
    session: Any, config: SiteConfig, given: dict[str, str], signal_alarms: tuple[str, ...]
) -> SiteSettings:
    """The parameters `sam deploy --config-file` would deploy: the file's, over (for a new stack) the
    template's defaults or (for a stack that exists) its deployed values, which sam deploy keeps for
    the parameters the file leaves out; `given` (explicit options) over all. A stack that exists is
    checked as itself (its own failover pair and distribution are not in the way)."""
    stack = _existing_stack(session.client("cloudformation"), config.stack_name) if config.stack_name else None
    previous: dict[str, str] = {}
    outputs: dict[str, str] = {}
    notes = []
    if stack is not None:
        spec = template_parameters()
        previous = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        previous = {name: value for name, value in previous.items() if name in spec}
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        notes.append(
            f"stack {config.stack_name} exists: this deploy changes it, and the parameters {config.path} "
            "leaves out keep their deployed values (as sam deploy keeps them)"
        )
    parameters = {**defaults(), **previous, **config.parameters, **given}
    problems = config_problems(parameters)
    if problems:
        raise DetourError(f"{config.path}: " + "; ".join(problems))
    return SiteSettings(
        parameters,
        site_stack=config.stack_name if stack is not None else "",
        distribution_id=outputs.get("DistributionId", ""),
        signal_alarms=signal_alarms,
        notes=notes,
    )
