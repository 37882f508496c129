"""`/detour` in Slack: what a request asks for, which site it is for, who may ask it, and the answer.

    /detour [site] status                                   anyone in an allowed channel
    /detour [site] update [stage] <message>                 allowed users (or members of allowed groups)
    /detour [site] maintenance on <message> [until <when>]  allowed users
    /detour [site] maintenance off                          allowed users
    message shortcut "Post to the maintenance page"         allowed users: the message, as it is

The site: a first word that is not a verb but a registered site's id, domain, name or stack; else
the one site whose Slack channel is where the request came from; else the only site. Nothing else
is guessed: the answer lists the sites. `status` with no site told, among several, is every site's.

Parsing, choosing the site and the first authorization check are pure, so the acknowledgement
answers a mistake at once; the answer to a valid request comes from the asynchronous work, through
`response_url`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from detour.incidents.sites import RegisteredSite, SiteChoiceError, choose_site
from detour.incidents.updates import MAX_MESSAGE_CHARS, InvalidUpdate, Stage, parse_stage
from detour.slack.message import escape
from detour.slack.request import SlackAsk, plain_text

USAGE = (
    "`/detour [site] status` · `/detour [site] update [stage] <message>` · "
    "`/detour [site] maintenance on <message> [until 2h]` · `/detour [site] maintenance off`. "
    "The site (its domain, health check id or site stack) may be left out in its own channel, or when there is "
    "only one. "
    "Stages: " + ", ".join(stage.value for stage in Stage) + "."
)
VERBS = frozenset({"", "help", "status", "update", "maintenance"})
UNTIL = re.compile(r"^(?P<message>.*?)\s+until\s+(?P<until>\S+)\s*$", re.IGNORECASE | re.DOTALL)
SLACK_ID = re.compile(r"^[A-Z0-9]{2,30}$")


class Verb(StrEnum):
    HELP = "help"
    STATUS = "status"
    UPDATE = "update"
    MAINTENANCE_ON = "maintenance on"
    MAINTENANCE_OFF = "maintenance off"

    @property
    def changes_anything(self) -> bool:
        return self not in (Verb.HELP, Verb.STATUS)


class CommandError(ValueError):
    """A request that cannot be done as asked: the text is the answer to the person who asked."""


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    message: str = ""
    stage: Stage | None = None  # None: keep the incident's current stage
    until: str = ""
    # The whole message when the first word was taken as the stage: the work decides, knowing which
    # stages fit the incident ("Scheduled jobs are failing" during an outage is a message).
    unstaged: str = ""
    site: str = ""  # the site word, as typed: "" when the request did not name a site

    def fitting(self, stages: tuple[Stage, ...]) -> Command:
        """This update with its stage only if it is one of `stages`; else the first word is words."""
        if self.stage is None or self.stage in stages or not self.unstaged:
            return self
        return Command(self.verb, message=_message(self.unstaged), site=self.site)


def parse_command(ask: SlackAsk, site_names: Collection[str] = frozenset()) -> Command:
    """What was asked. `site_names`: every registered site's names (`site_names(sites)`); a first
    word that is not a verb but one of these is the site word."""
    if ask.kind == "shortcut":
        return Command(Verb.UPDATE, message=_message(plain_text(ask.text)))
    word, rest = _first_word(ask.text)
    if word.lower() in VERBS or site_key(word) not in site_names:
        return _verb(word.lower(), rest)
    site, (word, rest) = word, _first_word(rest)
    if not word:  # `/detour shop.example.com`: that site's status
        return Command(Verb.STATUS, site=site)
    command = _verb(word.lower(), rest)
    return Command(command.verb, command.message, command.stage, command.until, command.unstaged, site=site)


def parse_queued(ask: SlackAsk) -> Command:
    """A request its acknowledgement already parsed, for the queued work: a first word that is no
    verb was the site word then, whatever the registry holds now (the site is the one carried)."""
    word, _ = _first_word(ask.text)
    return parse_command(ask, frozenset({site_key(word)}))


def _verb(verb: str, rest: str) -> Command:
    if verb in ("", "help"):
        return Command(Verb.HELP)
    if verb == "status":
        return Command(Verb.STATUS)
    if verb == "update":
        return _update(rest)
    if verb == "maintenance":
        return _maintenance(rest)
    raise CommandError(f"`{verb[:30]}` is not a /detour command, nor a site's name. {USAGE}")


def site_key(word: str) -> str:
    """A site word as `RegisteredSite.names()` holds names: lower case, no trailing dot."""
    return word.strip().lower().rstrip(".")


def site_names(sites: Iterable[RegisteredSite]) -> frozenset[str]:
    """Every name a site word may be, for `parse_command`."""
    return frozenset(name for site in sites for name in site.names())


def site_for(
    ask: SlackAsk, command: Command, sites: list[RegisteredSite], default_channel: str = ""
) -> RegisteredSite | None:
    """The site a request is for: (1) the site word; (2) the one site whose Slack channel this is
    (a site without a channel of its own posts in the secret's, `default_channel`); (3) the only
    site. None: `status` among several sites, none of these deciding: every site's status.
    SiteChoiceError, its text the answer listing the sites, when nothing decides."""
    if command.site:
        try:
            return choose_site(sites, command.site)
        except SiteChoiceError as error:
            raise SiteChoiceError(f"Nothing changed: {escape(str(error))}.") from None
    here = [site for site in sites if (site.slack_channel or default_channel) == ask.channel_id]
    if len(here) == 1:
        return here[0]
    if len(sites) == 1:
        return sites[0]
    if command.verb is Verb.STATUS and sites:
        return None
    if not sites:
        raise SiteChoiceError("Nothing changed: no site is registered with Detour yet (README, Deploy: add a site).")
    if ask.kind == "shortcut":
        how = (
            "The shortcut cannot name a site: use it in a site's own channel, or post the message with "
            "`/detour <site> update <message>`"
        )
    else:
        how = f"Name it first, e.g. `/detour {escape(sites[0].domain)} {_example(command)}`"
    listed = ", ".join(f"`{escape(site.domain)}` ({escape(site.site_id)})" for site in sites)
    raise SiteChoiceError(
        f"Detour protects {len(sites)} sites, and this channel is not one site's: which is it for? Nothing changed. "
        f"{how}. The sites: {listed}."
    )


def _example(command: Command) -> str:
    examples = {Verb.MAINTENANCE_ON: "maintenance on <message>", Verb.MAINTENANCE_OFF: "maintenance off"}
    return examples.get(command.verb, "update <message>")


def _update(rest: str) -> Command:
    """`[stage] <message>`: a first word that is a stage is the stage, if a message follows it."""
    first, remainder = _first_word(rest)
    try:
        stage = parse_stage(first) if first and remainder else None
    except InvalidUpdate:
        stage = None  # the first word is the message's, unless it is a stage mistyped
        import difflib  # noqa: PLC0415 - only a mistyped first word needs it, not every acknowledgement

        word = first.lower()
        near = difflib.get_close_matches(word, [s.value for s in Stage], n=1, cutoff=0.8)
        if near and word not in near[0]:  # "resolvd", not "Complete outage of ..." or "Monitor ..."
            raise CommandError(
                f"`{first[:30]}` looks like the stage `{near[0]}`. Nothing changed: post it again with the stage "
                "spelled out, or start the message with another word."
            ) from None
    if stage is not None:
        return Command(Verb.UPDATE, message=_message(plain_text(remainder)), stage=stage, unstaged=plain_text(rest))
    return Command(Verb.UPDATE, message=_message(plain_text(rest)))


def _maintenance(rest: str) -> Command:
    switch, words = _first_word(rest)
    if switch.lower() == "off" and not words.strip():
        return Command(Verb.MAINTENANCE_OFF)
    if switch.lower() == "on":
        found = UNTIL.match(words)
        message, until = (found["message"], found["until"]) if found else (words, "")
        return Command(Verb.MAINTENANCE_ON, message=_message(plain_text(message)), until=until)
    raise CommandError(f"`/detour maintenance` takes `on <message> [until 2h]` or `off`. {USAGE}")


def _first_word(text: str) -> tuple[str, str]:
    """The first word and the rest as typed (a message keeps its own line breaks)."""
    parts = text.strip().split(maxsplit=1)
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


def _message(text: str) -> str:
    message = text.strip()
    if not message:
        raise CommandError(f"That needs a message: what should visitors read? {USAGE}")
    if len(message) > MAX_MESSAGE_CHARS:
        raise CommandError(
            f"That message has {len(message)} characters; the page takes at most {MAX_MESSAGE_CHARS}. Shorten it "
            "and post again."
        )
    return message


class Verdict(StrEnum):
    ALLOWED = "allowed"
    REFUSED = "refused"
    ASK_GROUPS = "ask groups"  # only a user group can allow it: looked up by the work, not the acknowledgement


@dataclass(frozen=True, slots=True)
class Permissions:
    """Who may change what the pages say, and from where: the hub's parameters, the Slack secret's
    channel and every registered site's own channel."""

    users: frozenset[str]
    groups: frozenset[str]
    channels: frozenset[str]

    @classmethod
    def parse(
        cls, updaters: str, channels: str, default_channel: str = "", site_channels: Iterable[str] = ()
    ) -> Permissions:
        """`updaters`: user ids (U…, W…) and user group ids (S…), comma-separated. `site_channels`:
        the registered sites' own channels (the site template checks them; one that is not a
        channel id is left out rather than stop every site's commands)."""
        ids = {part.strip() for part in updaters.split(",") if part.strip()}
        where = {part.strip() for part in channels.split(",") if part.strip()} | ({default_channel} - {""})
        where |= {channel for channel in site_channels if SLACK_ID.match(channel)}
        bad = sorted(i for i in ids | where if not SLACK_ID.match(i))
        if bad:
            raise ValueError(f"not Slack ids: {', '.join(bad)} (user ids U…/W…, user groups S…, channels C…/G…)")
        return cls(
            users=frozenset(i for i in ids if not i.startswith("S")),
            groups=frozenset(i for i in ids if i.startswith("S")),
            channels=frozenset(where),
        )

    def verdict(self, ask: SlackAsk, command: Command) -> tuple[Verdict, str]:
        """ALLOWED, REFUSED with the answer to give, or ASK_GROUPS."""
        if ask.channel_id not in self.channels:
            return Verdict.REFUSED, "Detour takes commands only in its incident channels. Nothing changed."
        if not command.verb.changes_anything or ask.user_id in self.users:
            return Verdict.ALLOWED, ""
        if self.groups:
            return Verdict.ASK_GROUPS, ""
        return Verdict.REFUSED, _refusal()

    def verdict_with_groups(
        self, ask: SlackAsk, command: Command, members_of: Callable[[str], frozenset[str]]
    ) -> tuple[Verdict, str]:
        verdict, answer = self.verdict(ask, command)
        if verdict is not Verdict.ASK_GROUPS:
            return verdict, answer
        if any(ask.user_id in members_of(group) for group in sorted(self.groups)):
            return Verdict.ALLOWED, ""
        return Verdict.REFUSED, _refusal()


def _refusal() -> str:
    return (
        "You are not on Detour's list of people who may post to the maintenance page (stack parameter "
        "SlackUpdaters). Nothing changed; ask an operator to add you."
    )
