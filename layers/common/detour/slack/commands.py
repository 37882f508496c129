"""`/detour` in Slack: what a request asks for, who may ask it, and the answer.

    /detour status                                   anyone in an allowed channel
    /detour update [stage] <message>                 allowed users (or members of allowed groups)
    /detour maintenance on <message> [until <when>]  allowed users
    /detour maintenance off                          allowed users
    message shortcut "Post to the maintenance page"  allowed users: the message, as it is

Parsing and the first authorization check are pure, so the acknowledgement answers a mistake at
once; the answer to a valid request comes from the asynchronous work, through `response_url`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from detour.incidents.updates import MAX_MESSAGE_CHARS, InvalidUpdate, Stage, parse_stage
from detour.slack.request import SlackAsk, plain_text

USAGE = (
    "`/detour status` · `/detour update [stage] <message>` · `/detour maintenance on <message> [until 2h]` · "
    "`/detour maintenance off`. Stages: " + ", ".join(stage.value for stage in Stage) + "."
)
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

    def fitting(self, stages: tuple[Stage, ...]) -> Command:
        """This update with its stage only if it is one of `stages`; else the first word is words."""
        if self.stage is None or self.stage in stages or not self.unstaged:
            return self
        return Command(self.verb, message=_message(self.unstaged))


def parse_command(ask: SlackAsk) -> Command:
    if ask.kind == "shortcut":
        return Command(Verb.UPDATE, message=_message(plain_text(ask.text)))
    verb, rest = _first_word(ask.text)
    verb = verb.lower()
    if verb in ("", "help"):
        return Command(Verb.HELP)
    if verb == "status":
        return Command(Verb.STATUS)
    if verb == "update":
        return _update(rest)
    if verb == "maintenance":
        return _maintenance(rest)
    raise CommandError(f"`{verb[:30]}` is not a /detour command. {USAGE}")


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
    """Who may change what the page says, and from where (stack parameters and the Slack secret)."""

    users: frozenset[str]
    groups: frozenset[str]
    channels: frozenset[str]

    @classmethod
    def parse(cls, updaters: str, channels: str, default_channel: str = "") -> Permissions:
        """`updaters`: user ids (U…, W…) and user group ids (S…), comma-separated."""
        ids = {part.strip() for part in updaters.split(",") if part.strip()}
        where = {part.strip() for part in channels.split(",") if part.strip()} | ({default_channel} - {""})
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
            return Verdict.REFUSED, "Detour takes commands only in its incident channel. Nothing changed."
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
