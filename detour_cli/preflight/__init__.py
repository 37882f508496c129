"""`detour preflight`: catch a broken site setup before it is deployed, or in a deployed site.

For a site not yet added, its settings are options named after sites/site.yaml's parameters, with
the template's defaults; for deployed sites (no --domain), each site's parameters come from its
stack and its health check from Route 53. Checks: the hosted zone (public, the domain's, no record
in the way of the failover pair), the certificate (us-east-1, ISSUED, covers the domain),
CloudFront (no other distribution holds the name; a CloudFront primary cannot fail over by DNS),
the primary (not the failover name, a balancer's zone id, a probe from here as Route 53 probes),
the failover signals (each signal alarm as Route 53 would take it, the 5xx-rate signal's ALB and
dimensions, a warning when the endpoint probe alone no longer fails over), and what the site's
health checks and alarms cost.

--config-file sites/<name>.toml checks what `sam deploy --config-file` would deploy: the file's
parameter_overrides, stack_name and region, with explicit options over them.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import dns.exception
import dns.resolver
from botocore.exceptions import BotoCoreError, ClientError

from detour_cli import authoritative_dns as adns
from detour_cli.output import EXIT_ERROR, EXIT_OK, EXIT_PROBLEM, Style, paragraphs, printable, run_reporting_errors
from detour_cli.preflight import render, settings, signals
from detour_cli.preflight.probe import ResolveTimeout
from detour_cli.preflight.result import Status
from detour_cli.preflight.run import Resolve, SiteReport, run_checks
from detour_cli.preflight.settings import SiteSettings, deployed_settings
from detour_cli.sites import SiteView, add_site_argument, read_deployment
from detour_cli.stack_outputs import DetourError, add_stack_arguments, session_for

PROG = "detour preflight"
DEFAULT_REGION = "us-east-1"
EPILOG = paragraphs(
    "Exit codes: 0 nothing fails (warnings allowed); 1 a check failed; 2 usage error, missing stack or output, "
    "a site that could not be read, or an AWS error.",
    "A site not yet added: --domain, --hosted-zone-id, --primary-target and --certificate-arn at least; the other "
    "options default as sites/site.yaml's parameters do, and are refused as the template would refuse them. "
    "Deployed sites: leave --domain out; --site NAME checks one (its domain, health check id, site name or "
    "stack), otherwise every site registered with the hub (--stack).",
    "A site's SAM CLI config file: --config-file sites/<name>.toml reads its [default.deploy.parameters] "
    "(parameter_overrides, stack_name, region, profile) and checks what `sam deploy --config-file` would deploy; "
    "the options above, given as well, override the file's values. When its stack exists, the parameters the "
    "file leaves out keep their deployed values, as sam deploy keeps them.",
    "The probe runs from this machine, the way Route 53's checkers probe: a pass proves only that the primary "
    "answers here. --resolver HOST[:PORT] (or DETOUR_RESOLVER) resolves a load balancer's name through that "
    "server, for tests and split-horizon setups.",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but with --format json a usage error is also a JSON error object on stdout."""

    json_errors = False

    def error(self, message: str) -> Any:
        if self.json_errors:
            print(json.dumps(error_document(f"usage: {message}"), indent=2))
        super().error(message)


def error_document(message: str) -> dict[str, Any]:
    """What --format json prints when preflight could not run: exit code 2 and why."""
    return {"exit_code": EXIT_ERROR, "error": printable(message), "sites": []}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    parser.set_defaults(region=None)  # --config-file's region, unless --region is given
    add_site_argument(parser, "a deployed site to check (default: every registered site); not with --domain")
    parser.add_argument(
        "--config-file",
        metavar="FILE",
        help="a site's SAM CLI config file (sites/<name>.toml): check what `sam deploy --config-file FILE` "
        "would deploy; the site options override its values",
    )
    spec = settings.template_parameters()
    new_site = parser.add_argument_group("a site not yet added (sites/site.yaml's parameters)")
    _parameter_options(new_site, settings.PARAMETERS, spec)
    group = parser.add_argument_group(
        "failover signals (sites/site.yaml's parameters; docs/adr/0002-failover-signals.md)"
    )
    group.add_argument(
        "--signal-alarm",
        action="append",
        default=[],
        metavar="NAME",
        help=f"a CloudWatch alarm (name or ARN) that is to fail the site over: SignalAlarm1, then 2 and 3 "
        f"(repeatable, at most {len(signals.SIGNAL_ALARM_SLOTS)}); checked as Route 53 would take it. With "
        "--config-file it replaces the file's signal alarms; for a deployed site it checks these alarms",
    )
    _parameter_options(group, signals.SIGNAL_PARAMETERS, spec)
    parser.add_argument("--resolver", metavar="HOST[:PORT]", help="resolve a balancer's name through this server")
    parser.add_argument("--format", choices=["text", "json"], default="text", help="json for scripts")
    return parser


def main(argv: list[str] | None = None, reports: list[SiteReport] | None = None) -> int:
    """`detour preflight ARGS`; `reports`, when given, receives the reports (detour site add reads them)."""
    parser = build_parser()
    given_argv = sys.argv[1:] if argv is None else argv
    wants_json = any(a == "--format=json" for a in given_argv) or any(
        a == "--format" and b == "json" for a, b in itertools.pairwise(given_argv)
    )
    parser.json_errors = wants_json  # type: ignore[attr-defined]
    args = parser.parse_args(argv)
    server = args.resolver or os.environ.get("DETOUR_RESOLVER")
    if server:
        try:
            host, port = adns.parse_host_port(server)
        except ValueError:
            parser.error(f"--resolver {server!r}: give HOST or HOST:PORT")
        if not host or not 0 < port < 65536:
            parser.error(f"--resolver {server!r}: give HOST or HOST:PORT")
    named = (*settings.PARAMETERS, *signals.SIGNAL_PARAMETERS)
    given = {name: getattr(args, name) for name in named if getattr(args, name) is not None}
    if len(args.signal_alarm) > len(signals.SIGNAL_ALARM_SLOTS):
        parser.error(
            f"--signal-alarm: at most {len(signals.SIGNAL_ALARM_SLOTS)} (SignalAlarm1 to SignalAlarm3), "
            f"not {len(args.signal_alarm)}"
        )
    slots = signals.slot_parameters(args.signal_alarm) if args.signal_alarm else {}
    config = _config(parser, args) if args.config_file else None
    args.region = args.region or DEFAULT_REGION
    if config is not None:
        return _reporting(args, lambda: _run(args, None, sys.stdout, reports, (config, given | slots)))
    if args.DomainName is None and given:
        parser.error(f"{', '.join(settings.option(n) for n in given)} describe a site not yet added: give --domain too")
    if args.DomainName is not None and args.site:
        parser.error("--site checks a deployed site and --domain a site not yet added: give one of them")
    new_site = None
    if args.DomainName is not None:
        missing = [settings.option(n) for n in settings.required() if n not in given]
        if missing:
            parser.error(f"a site not yet added needs {', '.join(missing)}")
        parameters = {**settings.defaults(), **given, **slots}
        checked = (*named, *signals.SIGNAL_ALARM_SLOTS)
        problems = settings.validate({name: parameters[name] for name in checked}, _option)
        if problems:
            parser.error("; ".join(problems))
        new_site = SiteSettings(parameters, signal_alarms=tuple(args.signal_alarm))
    return _reporting(args, lambda: _run(args, new_site, sys.stdout, reports))


def _option(parameter: str) -> str:
    """How a usage error names a parameter: its option; the signal alarm slots are all --signal-alarm."""
    return "--signal-alarm" if parameter in signals.SIGNAL_ALARM_SLOTS else settings.option(parameter)


def _reporting(args: argparse.Namespace, verb: Any) -> int:
    if args.format == "json":
        return _json_reporting_errors(verb)
    return run_reporting_errors(PROG, verb)


def _config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> settings.SiteConfig:
    """--config-file's site: its file read as SAM CLI reads it; its region and profile unless given."""
    if args.site:
        parser.error("--config-file describes a site to deploy and --site a deployed one: give one of them")
    try:
        config = settings.read_config(Path(args.config_file))
    except DetourError as error:
        parser.error(str(error))
    if not config.names_site_template:
        parser.error(
            f"{config.path}: template_file is {config.template_file or '(none)'!r}, not {settings.SITE_TEMPLATE_FILE}: "
            "preflight checks sites/site.yaml's parameters"
        )
    args.region = args.region or config.region or DEFAULT_REGION
    if args.region != settings.REGION:
        parser.error(
            f"{config.path}: region {args.region}: Detour deploys only in us-east-1 (the template refuses others)"
        )
    args.profile = args.profile or config.profile or None
    return config


def _json_reporting_errors(verb: Any) -> int:
    """As run_reporting_errors (one line on stderr, exit 2), and the JSON error object on stdout."""
    try:
        code: int = verb()
        return code
    except DetourError as error:
        message = str(error)
    except ClientError as error:
        details = error.response.get("Error", {})
        message = f"AWS error: {details.get('Code', '?')}: {details.get('Message', error)}"
    except BotoCoreError as error:
        message = f"AWS error: {error}"
    except Exception as error:  # a crash must not read as exit 1, "problem found"
        message = f"unexpected error: {type(error).__name__}: {error}"
    print(f"{PROG}: {printable(message)}", file=sys.stderr)
    print(json.dumps(error_document(message), indent=2))
    return EXIT_ERROR


def _run(
    args: argparse.Namespace,
    new_site: SiteSettings | None,
    out: TextIO,
    collected: list[SiteReport] | None = None,
    from_config: tuple[settings.SiteConfig, dict[str, str]] | None = None,
) -> int:
    session = session_for(args)
    resolve = _resolver(args)
    if from_config is not None:
        config, given = from_config
        site = settings.config_settings(session, config, given, tuple(args.signal_alarm))
        # A stack that exists is checked as itself, but its health check is to change as the file says:
        # comparing the deployed check with the file's parameters would fail every intended change.
        results = [r for r in run_checks(session, site, resolve) if r.check != settings.HEALTH_CHECK]
        reports = [SiteReport(site.domain, site, results)]
    elif new_site is not None:
        reports = [SiteReport(new_site.domain, new_site, run_checks(session, new_site, resolve))]
    else:
        reports = [_deployed_report(session, view, args, resolve) for view in _views(session, args)]
    if collected is not None:
        collected += reports
    code = exit_code(reports)
    if args.format == "json":
        print(json.dumps(render.as_json(reports, code), indent=2), file=out)
    else:
        print(render.render(reports, Style(out)), file=out)
    return code


def exit_code(reports: list[SiteReport]) -> int:
    worst = {report.worst for report in reports}
    if Status.ERROR in worst:
        return EXIT_ERROR
    return EXIT_PROBLEM if Status.FAIL in worst else EXIT_OK


def _resolver(args: argparse.Namespace) -> Resolve:
    """A name's A records through --resolver (or DETOUR_RESOLVER, or this machine's): () when the name has
    none, ResolveTimeout when no server answered (that is not "does not resolve")."""
    server = args.resolver or os.environ.get("DETOUR_RESOLVER")
    resolver = dns.resolver.Resolver(configure=server is None)
    if server:
        host, port = adns.parse_host_port(server)
        resolver.nameservers, resolver.port = [host], port
    resolver.lifetime = adns.QUERY_TIMEOUT_S * 2

    def addresses(name: str) -> tuple[str, ...]:
        try:
            answer = resolver.resolve(name, "A", search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return ()
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as error:
            raise ResolveTimeout(f"no answer from the resolver ({type(error).__name__})") from error
        except dns.exception.DNSException:
            return ()
        return tuple(sorted(record.address for record in answer))

    return addresses


def _views(session: Any, args: argparse.Namespace) -> list[SiteView]:
    deployment = read_deployment(args, session)
    if args.site:
        return [deployment.choose(args.site)]
    if not deployment.sites:
        raise DetourError(
            f"no site is registered with hub stack {deployment.hub.name} yet: check a new site with --domain ..."
        )
    if args.signal_alarm and len(deployment.sites) > 1:
        raise DetourError("--signal-alarm belongs to one site: name it with --site (or check a new one with --domain)")
    return deployment.views()


def _deployed_report(session: Any, view: SiteView, args: argparse.Namespace, resolve: Resolve) -> SiteReport:
    """One deployed site's report: a site that cannot be read (its stack, an AWS error) is that site's
    ERROR, and the other sites are still checked."""
    try:
        site_settings = deployed_settings(session, view, tuple(args.signal_alarm))
        if args.signal_alarm:  # the alarms to check, in the slots, as a deploy with them would have them
            parameters = site_settings.parameters | signals.slot_parameters(args.signal_alarm)
            site_settings = dataclasses.replace(site_settings, parameters=parameters)
        return SiteReport(site_settings.domain, site_settings, run_checks(session, site_settings, resolve))
    except DetourError as error:
        return SiteReport(view.domain, None, error=printable(str(error)))
    except ClientError as error:
        details = error.response.get("Error", {})
        message = f"AWS error: {details.get('Code', '?')}: {details.get('Message', error)}"
        return SiteReport(view.domain, None, error=printable(message))
    except BotoCoreError as error:
        return SiteReport(view.domain, None, error=printable(f"AWS error: {error}"))


def _parameter_options(group: Any, names: Iterable[str], spec: dict[str, Any]) -> None:
    """One option per site parameter, named after it, with the template's default and allowed values."""
    for name in names:
        declared = spec[name]
        default = f" (default: {declared['Default']})" if declared.get("Default") not in (None, "") else ""
        group.add_argument(
            settings.option(name),
            dest=name,
            metavar=name,
            choices=[str(v) for v in declared["AllowedValues"]] if "AllowedValues" in declared else None,
            help=f"{name}{default}",
        )
