"""The `detour` command."""

from __future__ import annotations

import sys

COMMANDS = {
    "demo": ("detour_cli.rehearsal", "rehearse a whole outage locally: no AWS account, no Docker"),
    "invoke": ("detour_cli.invoke", "run one function's handler with an event file, without Docker"),
    "status": ("detour_cli.status", "primary or maintenance page right now, and why (health check, alarm, DNS)"),
    "drill": ("detour_cli.drill", "rehearse failover on the real deployment, measure it, always restore the flag"),
    "report": ("detour_cli.report", "failover windows in a period: downtime, MTTR, availability; --chart"),
    "maintenance": ("detour_cli.maintenance", "planned maintenance on|off: a message on the page, failover forced"),
    "update": ("detour_cli.update", "post an update to the incident's timeline (page and Slack), or --list it"),
    "site": ("detour_cli.site", "the sites this deployment protects: detour site list | add NAME | remove NAME"),
    "preflight": ("detour_cli.preflight", "check a site's setup before it is added, or every deployed site"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: detour COMMAND [--help]\n\ncommands:")
        for name, (_, summary) in COMMANDS.items():
            print(f"  {name:<8} {summary}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    import importlib  # noqa: PLC0415

    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]))


if __name__ == "__main__":
    raise SystemExit(main())
