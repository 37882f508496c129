"""Powertools wiring shared by the alarm functions: transition-keyed idempotency, the parsed event
and the registered site it is for."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from detour.incidents.alarm_message import InvalidAlarmMessage, parse_sns_event
from detour.incidents.sites import RegisteredSite, SiteRegistry, UnregisteredSite
from detour.incidents.transition import Transition
from detour.runtime.aws import diagnosis_clients, dynamodb_client
from detour.runtime.tracing import traced

if TYPE_CHECKING:
    from detour.signals.states import SignalReading

__all__ = ["alarm_for_site", "idempotency_config", "once_per_transition", "traced", "transition_from"]

R = TypeVar("R")
# How long a processed transition is remembered. SNS and Lambda retry for at most six hours.
IDEMPOTENCY_TTL_S = 24 * 3600


def idempotency_config() -> IdempotencyConfig:
    """Key on the transition (alarm + state-change time), not the SNS MessageId: a second publish
    of the same transition is a duplicate too. The handler registers the Lambda context on it."""
    return IdempotencyConfig(
        event_key_jmespath="[alarm_name, changed_at]",
        expires_after_seconds=IDEMPOTENCY_TTL_S,
        raise_on_no_idempotency_key=True,
    )


def once_per_transition(table_name: str, config: IdempotencyConfig) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Decorator: run the wrapped function at most once per transition (passed as `transition=`).

    Records live in the incidents table under `IDEMPOTENCY#<service>` (the function's
    POWERTOOLS_SERVICE_NAME), a prefix the function's IAM role is limited to. The Powertools wrapper is
    built on the first call, so the DynamoDB client (shared with the incident store) is not created
    at import time.
    """

    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "local")  # fixed at import, like the handler

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        @functools.cache
        def idempotent() -> Callable[..., R]:
            persistence = DynamoDBPersistenceLayer(
                table_name=table_name,
                key_attr="pk",
                sort_key_attr="sk",
                static_pk_value=f"IDEMPOTENCY#{service}",
                boto3_client=dynamodb_client(),
            )
            wrapped = idempotent_function(
                data_keyword_argument="transition", persistence_store=persistence, config=config
            )(function)
            return cast("Callable[..., R]", wrapped)

        @functools.wraps(function)
        def run_once(**kwargs: Any) -> R:
            return idempotent()(**kwargs)

        return run_once

    return decorate


def alarm_for_site(
    event: dict[str, Any], alarm_prefix: str, table_name: str, logger: Any
) -> tuple[Transition, RegisteredSite]:
    """The transition an SNS event carries and the registered site it is for. An unregistered site,
    or an alarm that is not the site's own, is refused like a malformed event: logged, re-raised,
    retried, then dead-lettered, and nothing is done for it."""
    transition = transition_from(event, alarm_prefix, logger)
    try:
        site = SiteRegistry(table_name, dynamodb_client()).for_transition(transition)
    except UnregisteredSite as error:
        logger.error("Refused an alarm for an unregistered site; failing so it is dead-lettered", error=str(error))
        raise
    logger.append_keys(domain=site.domain, site_id=site.site_id)
    return replace(transition, site_id=site.site_id), site


def recorded_cause(transition: Transition, site: RegisteredSite, table_name: str, logger: Any) -> SignalReading | None:
    """Why an ALARM transition's outage failed over, read once and shared by every function
    (detour.signals.causes); None for other transitions. If Route 53 or CloudWatch cannot be read,
    the incident is told without it (logged), and a later delivery or another function records it:
    the diagnosis must never hold up the alert."""
    from detour.signals.causes import cause_of  # noqa: PLC0415 - only ALARM transitions need it
    from detour.signals.states import SignalsUnreadable  # noqa: PLC0415

    route53, cloudwatch = diagnosis_clients()
    try:
        return cause_of(
            transition,
            site,
            table_name=table_name,
            dynamodb=dynamodb_client(),
            route53=route53,
            cloudwatch=cloudwatch,
            now=datetime.now(UTC),
        )
    except SignalsUnreadable as error:
        logger.warning("Could not read which check failed; telling the incident without it", error=str(error))
        return None


def transition_from(event: dict[str, Any], alarm_prefix: str, logger: Any) -> Transition:
    """Parse the SNS event; a rejection is logged with its specific reason and re-raised, so the
    invocation fails and the event is retried, then dead-lettered: nothing is dropped silently."""
    try:
        transition = parse_sns_event(event, alarm_prefix=alarm_prefix)
    except InvalidAlarmMessage as error:
        logger.error("Rejected SNS event; failing so it is retried, then dead-lettered", error=str(error))
        raise
    logger.append_keys(site_id=transition.site_id, alarm=transition.alarm_name, state=transition.new_state)
    return transition
