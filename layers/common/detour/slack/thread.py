"""Where an incident's Slack message lives (kept apart so the store need not import Slack code)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SlackThread:
    """The incident's root message: editable and repliable in bot mode."""

    channel: str
    ts: str
