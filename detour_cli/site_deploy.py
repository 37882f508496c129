"""`detour site add` and `detour site remove`: SAM CLI's deploy and delete of one site stack, with
`detour preflight` first for an add (a failed check stops it unless --force).

A site is its SAM CLI config file, sites/<name>.toml (a copy of sites/example.toml), deploying
sites/site.yaml as stack detour-site-<name>: `site add` runs `sam deploy --config-file` on it, as the
README's plain path does, after the checks; `site remove` runs `sam delete` on the stack.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

from detour.incidents.sites import RegisteredSite
from detour_cli import preflight
from detour_cli.output import EXIT_ERROR, EXIT_OK, EXIT_PROBLEM, Style
from detour_cli.preflight import settings
from detour_cli.preflight.result import Status
from detour_cli.preflight.run import SiteReport
from detour_cli.sites import read_deployment
from detour_cli.stack_outputs import DetourError, find_stack, session_for

STACK_PREFIX = "detour-site-"
PROJECT_SAM = Path(".venv-sam/bin/sam")  # the project's own SAM CLI (make build makes it), where sam runs
EXAMPLE = Path("sites/example.toml")
HUB_DEFAULT = "detour"
ADD = "detour site add"
REMOVE = "detour site remove"


def stack_for(name: str) -> str:
    """shop -> detour-site-shop (a name given as the stack's own is taken as it is)."""
    return name if name.startswith(STACK_PREFIX) else STACK_PREFIX + name


def find_sam() -> str | None:
    """.venv-sam/bin/sam under the current directory if it is there, else `sam` on PATH."""
    if PROJECT_SAM.is_file() and os.access(PROJECT_SAM, os.X_OK):
        return str(PROJECT_SAM)
    return "sam" if shutil.which("sam") else None  # run by name: the command shown is the one run


def _no_sam(prog: str) -> int:
    print(
        f"{prog}: no SAM CLI: neither {PROJECT_SAM} (here) nor `sam` on PATH.\n"
        "  Get it with `make build` in the Detour checkout (it makes .venv-sam), or install the AWS SAM CLI "
        "(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html).",
        file=sys.stderr,
    )
    return EXIT_ERROR


def run_sam(argv: list[str], out: TextIO) -> int:
    """Run the SAM CLI, its output streaming as it comes: on a real terminal sam writes to it itself
    (its prompts and colour intact); otherwise its output is copied to `out` as it arrives."""
    out.flush()
    try:
        out.fileno()
        inherit = True
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        inherit = False
    if inherit:
        return subprocess.call(argv)  # noqa: S603 - the SAM CLI, with the operator's own arguments
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:  # noqa: S603
        stream = process.stdout
        while stream is not None and (chunk := os.read(stream.fileno(), 4096)):
            out.write(chunk.decode("utf-8", "replace"))
            out.flush()
        return process.wait()


def _missing_config(prog: str, name: str, path: Path) -> int:
    """The file a site needs, and how to make it: nothing is invented for it."""
    example = EXAMPLE if EXAMPLE.is_file() else settings.SITE_TEMPLATE.parent / "example.toml"
    try:
        keys = list(settings.read_config(example).parameters)
    except DetourError:
        keys = ["HubStackName", *settings.required()]
    print(
        f"{prog}: no {path}: a site is its SAM CLI config file. Make it from the example and edit it:\n"
        f"  cp {EXAMPLE} {path}\n"
        f'  then in [default.deploy.parameters]: stack_name = "{stack_for(name)}", and in parameter_overrides '
        f"your site's {', '.join(keys)}\n"
        f"  (sites/site.yaml's Parameters say what each one is; then run this again)",
        file=sys.stderr,
    )
    return EXIT_ERROR


def _failed(reports: list[SiteReport], status: Status) -> list[str]:
    return [f"{r.check}: {r.title}" for report in reports for r in report.results if r.status == status]


class _Stop(Exception):
    """Not an error: the verb ends here, with this exit code (and this message on stderr)."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code


def _site_file(args: argparse.Namespace, out: TextIO) -> tuple[Path, settings.SiteConfig, str]:
    """The site's config file, read, and the hub it names; a file that does not fit stops the add."""
    path = Path(args.config_file or f"sites/{args.name}.toml")
    if not path.is_file():
        raise _Stop(_missing_config(ADD, args.name, path))
    try:
        config = settings.read_config(path)
    except DetourError as error:
        raise _Stop(EXIT_ERROR, str(error)) from error
    if not config.names_site_template:
        raise _Stop(
            EXIT_ERROR,
            f"{path}: template_file is {config.template_file or '(none)'!r}: a site deploys "
            f'{settings.SITE_TEMPLATE_FILE} (template_file = "{settings.SITE_TEMPLATE_FILE}")',
        )
    hub = config.parameters.get("HubStackName") or settings.defaults().get("HubStackName", HUB_DEFAULT)
    if args.stack and args.stack != hub:
        raise _Stop(
            EXIT_ERROR,
            f"{path} adds the site to hub stack {hub} (HubStackName), not {args.stack} (--stack): change one of them",
        )
    expected = stack_for(args.name)
    if config.stack_name != expected:
        warning = (
            f"WARNING: {path} deploys stack {config.stack_name or '(no stack_name)'}, not {expected}: "
            f'`detour site remove {args.name}` will not find it (set stack_name = "{expected}")'
        )
        print(Style(out)(warning, "yellow", "bold"), file=out)
    return path, config, hub


def _preflight_gate(args: argparse.Namespace, path: Path, hub: str, out: TextIO) -> None:
    """`detour preflight --config-file PATH`: a failed check stops the add, unless --force (said loudly)."""
    style = Style(out)
    print(style(f"$ detour preflight --config-file {path}", "bold"), file=out)
    reports: list[SiteReport] = []
    argv = ["--config-file", str(path), "--stack", hub]
    argv += ["--region", args.region] if args.region else []
    argv += ["--profile", args.profile] if args.profile else []
    code = preflight.main(argv, reports)
    if code == EXIT_ERROR:
        raise _Stop(EXIT_ERROR, "preflight could not check the site (above), so nothing is deployed (--force or not)")
    if code != EXIT_PROBLEM:
        return
    failures = _failed(reports, Status.FAIL)
    count = f"{len(failures)} check{'s' if len(failures) != 1 else ''}"
    if not args.force:
        raise _Stop(
            EXIT_PROBLEM,
            f"preflight failed {count}: nothing deployed. Fix what it says and run this again; --force deploys anyway.",
        )
    print(style(f"\n!!! --force: deploying although preflight failed {count}:", "red", "bold"), file=out)
    for failure in failures:
        print(style(f"!!!   {failure}", "red", "bold"), file=out)
    print(style("!!! the deploy may fail, or the site may not fail over when it must.", "red", "bold"), file=out)


def add(args: argparse.Namespace, out: TextIO) -> int:
    try:
        path, _, hub = _site_file(args, out)
        sam = find_sam()
        if sam is None:
            return _no_sam(ADD)
        _preflight_gate(args, path, hub, out)
    except _Stop as stop:
        if str(stop):
            print(f"{ADD}: {stop}", file=sys.stderr)
        return stop.code
    deploy = [sam, "deploy", "--config-file", str(path)]
    deploy += ["--no-confirm-changeset"] if args.yes else []
    deploy += ["--region", args.region] if args.region else []
    deploy += ["--profile", args.profile] if args.profile else []
    print(Style(out)(f"\n$ {' '.join(deploy)}", "bold"), file=out)
    return run_sam(deploy, out)


def _site_lines(site: RegisteredSite, bucket: str, table: str) -> list[str]:
    checks = f"the stack's health check {site.endpoint_check}"
    if site.signals:
        count = len(site.signals)
        checks = f"the stack's health checks (endpoint {site.endpoint_check}, failover, {count} for signals)"
    return [
        f"  goes:  {checks}, the failover records of {site.domain},",
        f"         its distribution {site.distribution_id} and its alarm {site.alarm_name};",
        f"         its page objects (every version under s3://{bucket}/{site.page_prefix}), then its registration",
        f"  stays: its history (transitions, windows, timeline) in table {table}, under site id {site.site_id}",
    ]


def remove(args: argparse.Namespace, out: TextIO) -> int:
    style = Style(out)
    stack = stack_for(args.name)
    region = args.region or settings.REGION
    args.region = region
    session = session_for(args)
    deployment = read_deployment(args, session)
    registered = [site for site in deployment.sites if site.stack_name == stack]
    if not registered and find_stack(deployment.cloudformation, stack) is None:
        sites = ", ".join(f"{s.stack_name} ({s.domain})" for s in deployment.sites) or "none"
        print(
            f"{REMOVE}: no site {args.name}: no stack {stack} in {region}, and hub stack {deployment.hub.name} "
            f"registers no site of that stack. Its sites: {sites}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    sam = find_sam()
    if sam is None:
        return _no_sam(REMOVE)
    print(style(f"Removing site {args.name}: stack {stack} ({region})", "bold"), file=out)
    if registered:
        bucket = deployment.hub.outputs.get("PageBucketName", "the page bucket")
        table = deployment.hub.outputs.get("IncidentsTableName", "the incidents table")
        for site in registered:
            print("\n".join(_site_lines(site, bucket, table)), file=out)
    else:
        print(f"  stack {stack} is not registered with hub stack {deployment.hub.name}: only the stack goes", file=out)
    delete = [sam, "delete", "--stack-name", stack, "--region", region]
    delete += ["--profile", args.profile] if args.profile else []
    delete += ["--no-prompts"] if args.yes else []
    print(style(f"\n$ {' '.join(delete)}", "bold"), file=out)
    code = run_sam(delete, out)
    return code or EXIT_OK
