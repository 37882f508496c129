"""`detour site list|add|remove`: the sites this Detour deployment protects, as its registry holds them.

`add NAME` deploys sites/NAME.toml (`sam deploy --config-file`) after `detour preflight` passes for it;
`remove NAME` deletes stack detour-site-NAME (`sam delete`): see detour_cli.site_deploy.

`list`:

One line per site: its domain, site name, health check id (the site's id everywhere in Detour), site
stack, the site template version it was deployed with, and its Slack channel ("hub's": the channel
in the hub's Slack secret). Any of the domain, name, id or stack is what --site takes in the other
verbs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from detour.incidents.sites import RegisteredSite
from detour_cli import site_deploy
from detour_cli.output import EXIT_OK, Style, paragraphs, run_reporting_errors
from detour_cli.sites import Deployment, read_deployment
from detour_cli.stack_outputs import add_stack_arguments, session_for

HUBS_CHANNEL = "hub's"
COLUMNS = ("DOMAIN", "SITE NAME", "HEALTH CHECK", "SITE STACK", "TEMPLATE", "SLACK CHANNEL")
EPILOG = paragraphs(
    "Exit codes: 0 ok (also with no site registered yet); 2 usage error, missing hub stack or output, or AWS error.",
    "A template version other than the hub's SiteTemplateVersion output means the site stack was deployed "
    "with an older sites/site.yaml: the line says so.",
)

ADD_DESCRIPTION = (
    "Add (or change) a site: `detour preflight --config-file FILE`, then `sam deploy --config-file FILE`.\n"
    "The SAM CLI is .venv-sam/bin/sam under this directory if it is there, else `sam` on PATH."
)
ADD_EPILOG = paragraphs(
    "Exit codes: 0 deployed (sam's 0); 1 preflight failed a check, nothing deployed; 2 no config file (it says how "
    "to make one), a file or --stack that does not fit, preflight could not check (even with --force), or no SAM "
    "CLI; otherwise sam deploy's own exit code.",
    "--force deploys although checks failed, and lists them first. Without --yes sam shows the change set and "
    "asks before it executes it.",
)
REMOVE_DESCRIPTION = (
    "Remove a site: `sam delete --stack-name detour-site-NAME --region REGION`. Its page objects and its "
    "registration go with the stack; its history stays in the incidents table."
)
REMOVE_EPILOG = paragraphs(
    "Exit codes: 0 deleted; 2 no such site (neither registered nor a stack; the sites are listed), no hub stack, "
    "no SAM CLI, or an AWS error; otherwise sam delete's own exit code.",
    "Without --yes sam delete asks before it deletes.",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="detour site",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the registered sites, one line each", epilog=EPILOG)
    add_stack_arguments(listing)
    listing.add_argument("--format", choices=["text", "json"], default="text", help="json for scripts")
    adding = actions.add_parser(
        "add",
        help="deploy a site's config file (sam deploy --config-file) after preflight passes",
        description=ADD_DESCRIPTION,
        epilog=ADD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    adding.add_argument(
        "name", metavar="NAME", help="the site: its file is sites/NAME.toml, its stack detour-site-NAME"
    )
    adding.add_argument(
        "--config-file", metavar="FILE", help="the site's SAM CLI config file (default: sites/NAME.toml)"
    )
    adding.add_argument("--force", action="store_true", help="deploy even when preflight fails a check (said loudly)")
    adding.add_argument("--yes", action="store_true", help="deploy without confirming the change set")
    adding.add_argument("--stack", help="the hub stack (default: the file's HubStackName); must match the file")
    adding.add_argument("--region", help="override the file's region")
    adding.add_argument("--profile", help="override the file's profile")
    removing = actions.add_parser(
        "remove",
        help="delete a site's stack (sam delete): its page objects and registration go, its history stays",
        description=REMOVE_DESCRIPTION,
        epilog=REMOVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    removing.add_argument("name", metavar="NAME", help="the site: its stack is detour-site-NAME")
    removing.add_argument("--yes", action="store_true", help="delete without sam delete's confirmation")
    add_stack_arguments(removing)
    args = parser.parse_args(argv)
    if args.action == "add":
        return run_reporting_errors(f"{parser.prog} add", lambda: site_deploy.add(args, sys.stdout))
    if args.action == "remove":
        return run_reporting_errors(f"{parser.prog} remove", lambda: site_deploy.remove(args, sys.stdout))
    return run_reporting_errors(f"{parser.prog} {args.action}", lambda: _run_list(args, sys.stdout))


def _run_list(args: argparse.Namespace, out: TextIO) -> int:
    deployment = read_deployment(args, session_for(args))
    if args.format == "json":
        print(json.dumps(as_json(deployment), indent=2), file=out)
    else:
        print(as_table(deployment, Style(out)), file=out)
    return EXIT_OK


def _current_version(deployment: Deployment) -> str:
    return deployment.hub.outputs.get("SiteTemplateVersion", "")


def as_json(deployment: Deployment) -> dict[str, Any]:
    return {
        "stack": deployment.hub.name,
        "site_template_version": _current_version(deployment) or None,
        "sites": [
            {
                "domain": site.domain,
                "site_name": site.site_name,
                "site_id": site.site_id,
                "site_stack": site.stack_name,
                "template_version": site.template_version,
                "slack_channel": site.slack_channel or None,
                "alarm_name": site.alarm_name,
                "distribution_id": site.distribution_id,
                "page_url": site.page_url,
                "registered_at": site.registered_at or None,
            }
            for site in deployment.sites
        ],
    }


def _row(site: RegisteredSite) -> tuple[str, ...]:
    return (
        site.domain,
        site.site_name or site.domain,
        site.site_id,
        site.stack_name,
        site.template_version or "?",
        site.slack_channel or HUBS_CHANNEL,
    )


def as_table(deployment: Deployment, style: Style) -> str:
    hub = deployment.hub.name
    if not deployment.sites:
        return f"No site is registered with hub stack {hub} yet: add one (README, Deploy: add a site)."
    current = _current_version(deployment)
    rows = [COLUMNS, *(_row(site) for site in deployment.sites)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    count = len(deployment.sites)
    lines = [style(f"{count} site{'s' if count != 1 else ''} registered with hub stack {hub}", "bold"), ""]
    for index, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        outdated = index > 0 and current and row[4] != current
        lines.append(style(line, "bold") if index == 0 else line + (f"  (hub is at {current})" if outdated else ""))
    return "\n".join(lines)
