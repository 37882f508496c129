"""`make demo`'s scenario, end to end, as CI runs it: a hub and two sites deployed on loopback, two
outages of one (its primary stops answering; then its pages answer 5xx while its health path stays
green, and the 5xx-rate signal fails it over) while the other must stay untouched, and the failed
site removed at the end; and `--sites 1`, today's single-site story. Outcomes are checked from what
a person would look at: the printed timeline and the artifacts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from detour.signals.error_rate import HOLD_MINUTES
from detour_cli.local.fake_slack import CHANNEL, Message
from detour_cli.rehearsal import (
    DOCS,
    ERROR_RATE_PERCENT,
    FAILING_PERCENT,
    OPERATOR,
    SHOP,
    SHOP_CHANNEL,
    UPDATE_BUDGET_S,
    UPDATE_MESSAGE,
    Options,
    Rehearsal,
)

Run = tuple[bool, Path, str]


def rehearse(out: Path, **options: object) -> Run:
    printed = io.StringIO()
    succeeded = Rehearsal(Options(interval_s=0.5, alarm_period_s=1.0, out=out, **options), out=printed).run()  # type: ignore[arg-type]
    return succeeded, out, printed.getvalue()


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return rehearse(tmp_path_factory.mktemp("two-sites"), remove_site=True)


@pytest.fixture(scope="module")
def one_site(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return rehearse(tmp_path_factory.mktemp("one-site"), sites=1)


def in_order(printed: str, story: list[str]) -> None:
    positions = [printed.index(step) for step in story]
    assert positions == sorted(positions)


def line_with(printed: str, text: str, after: str = "") -> str:
    start = printed.index(after) if after else 0
    at = printed.index(text, start)
    return printed[printed.rindex("\n", 0, at) + 1 : printed.index("\n", at)]


# -- two sites: the default -------------------------------------------------------------------------


def test_two_sites_tell_the_story_in_order(two_sites: Run) -> None:
    succeeded, out, printed = two_sites
    assert succeeded, printed
    in_order(
        printed,
        [
            "two outages of shop.detour.test (its primary down; then 5xx behind a green health check) while "
            "docs.detour.test stays up",
            "deployed template.yaml as hub stack 'detour'",
            "PublishedPages custom resource (site_setup, in-process): SUCCESS (Sites=0",
            "deployed sites/site.yaml as stack 'detour-site-shop'",
            f'shop.detour.test, "Example Shop", its own Slack channel #{SHOP_CHANNEL}',
            "Site (Custom::DetourSite) via its service token detour-SiteSetupFunction, run in-process",
            "HealthAlarm (AWS::CloudWatch::Alarm) via API: detour/detour-site-shop/primary-health",
            "deployed sites/site.yaml as stack 'detour-site-docs'",
            f"docs.detour.test, the hub's Slack channel #{CHANNEL}",
            "shop.detour.test: primary healthy",
            "docs.detour.test: primary healthy",
            "shop.detour.test: the primary stops answering",
            # with a signal, the records watch the calculated check: it follows the endpoint check
            "health check unhealthy (0/3 checkers say healthy; calculated check unhealthy: 1 of 2 children "
            "healthy, needs 2); DNS shop.detour.test A -> alias",
            "alarm detour/detour-site-shop/primary-health: OK -> ALARM",
            f"Slack #{SHOP_CHANNEL}: :rotating_light: shop.detour.test is failing over",
            f"<@{OPERATOR}> in Slack #{SHOP_CHANNEL}: /detour shop.detour.test update identified {UPDATE_MESSAGE}",
            "signed request -> slack_commands' Function URL (form body delivered base64, payload 2.0): HTTP 200",
            f"[identified] {UPDATE_MESSAGE}",
            f"ephemeral answer to <@{OPERATOR}>: Posted to the shop.detour.test maintenance page",
            f"thread reply: :memo: Posted to the shop.detour.test maintenance page by <@{OPERATOR}> (Identified)",
            "shop.detour.test: the primary comes back",
            "alarm detour/detour-site-shop/primary-health: ALARM -> OK",
            "failover window closed",
            "shop.detour.test: the primary's pages start failing",
            "checked: the endpoint probe said healthy in all",
            "docs.detour.test while shop.detour.test was out: untouched?",
            "checked: docs.detour.test untouched",
            "removing shop.detour.test: deleting stack detour-site-shop",
            "checked: shop.detour.test removed, its history kept, the other sites as they were",
        ],
    )
    # the docs site was never on its page, and its alarm never fired
    assert "DNS docs.detour.test A -> alias" not in printed
    assert "alarm detour/detour-site-docs/primary-health: OK ->" not in printed
    # the alarm is created only after the site is registered (DependsOn Site)
    shop = printed[printed.index("stack 'detour-site-shop'") : printed.index("stack 'detour-site-docs'")]
    assert shop.index("Site (Custom::DetourSite)") < shop.index("HealthAlarm (AWS::CloudWatch::Alarm)")
    assert (out / "timeline.txt").read_text().splitlines()[0].endswith("(no AWS account, no Docker)")


def test_the_untouched_site_is_printed_and_checked(two_sites: Run) -> None:
    _, _, printed = two_sites
    after = "docs.detour.test while shop.detour.test was out"
    assert line_with(printed, "page objects under sites/", after).endswith(
        "one version each: unchanged since its first publish"
    )
    assert "DNS docs.detour.test A -> 127.0.0.1 (TTL 60) [PRIMARY]" in line_with(
        printed, "the same page as before (yes)"
    )
    health = line_with(printed, "health check: healthy in", after)
    rounds = health.split("healthy in ")[1].split(" rounds")[0].split(" of ")
    assert rounds[0] == rounds[1]
    assert "primary-health: OK, 0 notification(s) delivered" in health
    assert line_with(printed, f"Slack #{CHANNEL}: ", after).endswith("0 new message(s)")
    assert "failover windows: 0;" in line_with(printed, "failover windows:", after)
    assert "registry item unchanged" in line_with(printed, "failover windows:", after)


def test_slack_got_a_thread_per_outage_in_the_failing_sites_channel_and_nothing_elsewhere(two_sites: Run) -> None:
    _, out, _ = two_sites
    messages = json.loads((out / "slack.json").read_text())
    assert {m["channel"] for m in messages} == {SHOP_CHANNEL}
    root, second = [m for m in messages if m["thread_ts"] is None]  # the primary down; then its 5xx
    assert root["edits"][0]["text"] == ":rotating_light: shop.detour.test is failing over to the maintenance page"
    assert root["text"].startswith(":white_check_mark: shop.detour.test recovered after ")
    update, resolved = [m for m in messages if m["thread_ts"] == root["ts"]]
    assert update["text"] == (
        f":memo: Posted to the shop.detour.test maintenance page by <@{OPERATOR}> (Identified): {UPDATE_MESSAGE}"
    )
    assert resolved["text"].startswith(":white_check_mark: Resolved: shop.detour.test is back on its primary")
    (second_resolved,) = [m for m in messages if m["thread_ts"] == second["ts"]]
    assert second["text"].startswith(":white_check_mark: shop.detour.test recovered after ")
    assert second_resolved["text"].startswith(":white_check_mark: Resolved: shop.detour.test is back on its primary")


def test_the_update_posted_from_slack_reached_the_shops_page_within_the_budget(two_sites: Run) -> None:
    _, out, printed = two_sites
    line = line_with(printed, "status.json on shop.detour.test's edge shows it")
    seconds = float(line.split("shows it ")[1].split(" s after")[0])
    assert seconds <= UPDATE_BUDGET_S
    page = out / "page" / SHOP.name
    status = json.loads((page / "2b-update-posted.status.json").read_text())
    assert (status["state"], status["stage"]) == ("unavailable", "identified")
    assert status["updates"][0]["message"] == UPDATE_MESSAGE
    assert all("author" not in update and OPERATOR not in json.dumps(update) for update in status["updates"])
    assert UPDATE_MESSAGE.replace("'", "&#39;") in (page / "2b-update-posted.html").read_text()
    acknowledged = line_with(printed, "signed request ->")
    milliseconds = float(acknowledged.split(" in ")[1].split(" ms")[0])
    assert milliseconds < 3000  # Slack's deadline for the acknowledgement


def test_the_shops_page_went_from_unavailable_to_resolved_and_the_docs_page_never_moved(two_sites: Run) -> None:
    _, out, _ = two_sites
    shop, docs = out / "page" / SHOP.name, out / "page" / DOCS.name
    during = json.loads((shop / "2-failing-over.status.json").read_text())
    after = json.loads((shop / "3-recovered.status.json").read_text())
    assert (during["state"], after["state"]) == ("unavailable", "resolved")
    assert after["resolved_at"] is not None
    headers = json.loads((shop / "2-failing-over.headers.json").read_text())
    # the shop's own Retry-After (300, not the default 120) comes from its page object's metadata;
    # the object's metadata headers never reach the visitor
    assert (headers["status"], headers["retry-after"], headers["cache-control"]) == (503, "300", "no-store")
    assert not [name for name in headers if name.startswith("x-amz-meta-")]
    assert "<title>Example Shop: service restored</title>" in (shop / "3-recovered.html").read_text()
    assert sorted(p.name for p in docs.iterdir()) == [
        "1-healthy.headers.json",
        "1-healthy.html",
        "1-healthy.status.json",
    ]
    assert "docs.detour.test" in (docs / "1-healthy.html").read_text()


def test_only_the_failing_site_has_a_failover_window_and_it_outlives_the_site(two_sites: Run) -> None:
    _, out, _ = two_sites
    windows = json.loads((out / "windows.json").read_text())  # written after the shop's stack was deleted
    errors, down = windows[SHOP.domain]  # newest first: its 5xx, then its primary down
    assert errors["ended_at"] is not None
    assert down["ended_at"] is not None
    assert down["ended_at"] <= errors["started_at"]
    # the primary was down for at least threshold x interval plus the alarm period, twice over
    assert 1.0 < down["duration_s"] < 60
    assert 0.5 < errors["duration_s"] < 60  # from one alarm period to the next, at least
    assert windows[DOCS.domain] == []


def test_removing_a_site_deletes_what_it_created_and_keeps_its_history(two_sites: Run) -> None:
    _, out, printed = two_sites
    removal = printed[printed.index("removing shop.detour.test") :]
    order = [
        "HealthAlarm (AWS::CloudWatch::Alarm) via API: detour/detour-site-shop/primary-health",
        "Site (Custom::DetourSite) Delete request, run in-process: SUCCESS",
        "Distribution (AWS::CloudFront::Distribution) via API:",
        "FailoverCheck (AWS::Route53::HealthCheck) via API:",
        "ErrorRateCheck (AWS::Route53::HealthCheck) via API:",
        "ErrorRateAlarm (AWS::CloudWatch::Alarm) via API: detour/detour-site-shop/error-rate",
        "HealthCheck (AWS::Route53::HealthCheck) via CloudFormation:",
    ]
    in_order(removal, order)
    removed = int(line_with(removal, "Site (Custom::DetourSite) Delete request").split("Removed=")[1].rstrip(")"))
    assert removed >= 2  # every version of index.html and status.json
    gone = line_with(removal, "registry item:")
    assert "registry item: gone" in gone
    assert "object versions left under sites/" in gone
    assert gone.endswith(": 0; DNS records for shop.detour.test: 0")
    kept = line_with(removal, "history kept:")
    assert kept.split("history kept: ")[1].startswith("2 failover window(s)")
    items, total = kept.split("window(s), ")[1].split(" items")[0].split(" of ")
    assert items == total
    assert int(items) > 0
    assert "Deleted (the site removed at the end)" in (out / "deployment.txt").read_text()


def test_the_deployment_says_what_is_real_and_what_is_emulated(two_sites: Run) -> None:
    _, out, _ = two_sites
    deployment = (out / "deployment.txt").read_text()
    assert "Stack detour (hub). Created in the emulator:" in deployment
    assert "Stack detour-site-shop (shop.detour.test)" in deployment
    assert "Stack detour-site-docs (docs.detour.test)" in deployment
    assert "IncidentsTable (AWS::DynamoDB::Table) via CloudFormation" in deployment
    assert "PageBucket (AWS::S3::Bucket) via CloudFormation" in deployment
    assert "Distribution (AWS::CloudFront::Distribution) via API" in deployment
    assert "(origin path /sites/" in deployment
    assert "LogWindowFunction (AWS::Lambda::Function): not deployed; its handler runs in-process" in deployment


# -- the 5xx-rate signal: the shop fails over on its visitors' 5xx while its health path stays green ----


def test_the_5xx_rate_fails_the_shop_over_while_its_endpoint_probe_stays_healthy(two_sites: Run) -> None:
    _, _, printed = two_sites
    act = printed[printed.index("shop.detour.test: the primary's pages start failing") :]
    act = act[: act.index("docs.detour.test while shop.detour.test was out")]
    in_order(
        act,
        [
            f"error-rate on [{FAILING_PERCENT} %, {FAILING_PERCENT} %]: OK -> ALARM",
            "5xx-rate check unhealthy (alarm ALARM); endpoint check healthy (3/3 checkers say healthy)",
            "alarm detour/detour-site-shop/primary-health: OK -> ALARM",
            f"Slack #{SHOP_CHANNEL}: :rotating_light: shop.detour.test is failing over",
            "Slack's root message, *Why it failed over*: 5xx rate: ALARM: Threshold Crossed:",
            "page's technical details: Failed over on: 5xx rate: ALARM: Threshold Crossed:",
            "status.json failed_checks ['5xx rate']",
            "shop.detour.test: the primary heals",
            f"{HOLD_MINUTES} clean minutes, ",
            f"error-rate on [{FAILING_PERCENT} %, 0 %]: ALARM -> OK",
            "5xx-rate check healthy (alarm OK)",
            "alarm detour/detour-site-shop/primary-health: ALARM -> OK",
            f"Slack #{SHOP_CHANNEL}: :white_check_mark: shop.detour.test recovered after",
            "failover window closed",
            "checked: the endpoint probe said healthy in all",
        ],
    )
    assert f"({FAILING_PERCENT} % answer 500" in act
    assert "while /health still answers 200" in act
    # every minute played: the visitors' 5xx share, what the ALB published, the rate error_rate published
    failing = act[: act.index("the primary heals")]
    minutes = [line for line in failing.splitlines() if " UTC: 50 visitor page requests" in line]
    assert len(minutes) == 2  # ErrorRateMinutes 2
    assert all(f"15 answered 5xx ({FAILING_PERCENT:.1f} %)" in line for line in minutes)
    assert all("RequestCount 50, HTTPCode_Target_5XX_Count 15" in line for line in minutes)
    published = line_with(failing, "error_rate (scheduled event, time", minutes[-1])
    assert published.endswith(f"0, 0, 0, {FAILING_PERCENT}, {FAILING_PERCENT} %")
    alarmed = line_with(failing, ": OK -> ALARM")
    assert f"error-rate on [{FAILING_PERCENT} %, {FAILING_PERCENT} %]" in alarmed
    assert f"were greater than the threshold ({float(ERROR_RATE_PERCENT)})" in failing
    # Route 53: the endpoint check healthy, the 5xx-rate check not, so the calculated check is not, so DNS moves
    moved = line_with(failing, "5xx-rate check unhealthy")
    assert "endpoint check healthy (3/3 checkers say healthy)" in moved
    assert "calculated check unhealthy: 1 of 2 children healthy, needs 2" in moved
    assert moved.endswith("[SECONDARY]")
    assert "failed_checks=['5xx rate']" in line_with(failing, "refresh_page: transition=ALARM")
    assert "cause=5xx rate: ALARM: Threshold Crossed" in line_with(failing, "log_window: cause=")
    # recovery: the rate is held for HOLD_MINUTES clean minutes (the alarm stays in ALARM, the site on its
    # page), then falls; the alarm and the calculated check follow, DNS comes back, Slack resolves
    healing = act[act.index("the primary heals") :]
    held = line_with(healing, f"{HOLD_MINUTES} clean minutes, ")
    assert "50 visitor page requests each, 0 answered 5xx" in held
    assert f"error_rate publishes them at {', '.join([str(FAILING_PERCENT)] * HOLD_MINUTES)} %, held" in held
    assert "though their own is 0 %" in held
    assert held.endswith("alarm detour/detour-site-shop/error-rate stays ALARM")
    assert healing.count(" UTC: 50 visitor page requests, ") == 1  # the held minutes are that one line
    assert "0 answered 5xx (0.0 %)" in healing
    turned = line_with(healing, "error_rate (scheduled event, time", held)  # the minute after the hold
    assert "the 5 minutes to " in turned
    assert turned.endswith(f": {', '.join([str(FAILING_PERCENT)] * 4)}, 0 %")
    assert f"error-rate on [{FAILING_PERCENT} %, 0 %]: ALARM -> OK" in healing
    back = line_with(healing, "5xx-rate check healthy (alarm OK)")
    assert back.endswith("alias shop-alb-1234567890.us-east-1.elb.amazonaws.com [PRIMARY]")
    assert ":white_check_mark: shop.detour.test recovered after" in healing
    checked = line_with(act, "checked: the endpoint probe said healthy in all")
    assert f"recovered after the {HOLD_MINUTES}-minute hold" in checked
    rounds = int(checked.split("healthy in all ")[1].split(" rounds")[0])
    assert rounds >= 2


def test_the_5xx_outage_names_its_cause_in_slack_on_the_page_and_in_status_json(two_sites: Run) -> None:
    _, out, _ = two_sites
    shop = out / "page" / SHOP.name
    failing = json.loads((shop / "4-5xx-failing-over.status.json").read_text())
    assert (failing["state"], failing["failed_checks"]) == ("unavailable", ["5xx rate"])
    page = (shop / "4-5xx-failing-over.html").read_text()
    assert '<p id="cause" dir="auto">Failed over on: 5xx rate: ALARM: Threshold Crossed:' in page
    recovered = json.loads((shop / "5-5xx-recovered.status.json").read_text())
    assert recovered["state"] == "resolved"
    # the first outage (the primary down) was the endpoint probe's
    down = json.loads((shop / "2-failing-over.status.json").read_text())
    assert down["failed_checks"] == ["endpoint probe"]

    messages = json.loads((out / "slack.json").read_text())
    first, second = [m for m in messages if m["thread_ts"] is None]

    def why(blocks: list[dict]) -> str:  # type: ignore[type-arg]
        texts = [b.get("text", {}).get("text", "") for b in blocks]
        return next((t for t in texts if t.startswith("*Why it failed over*")), "")

    assert why(second["edits"][0]["blocks"]).startswith("*Why it failed over*\n5xx rate: ALARM: Threshold Crossed")
    assert why(second["blocks"]).startswith("*Why it failed over*\n5xx rate: ALARM")  # still, once resolved
    assert why(first["edits"][0]["blocks"]).startswith("*Why it failed over*\nendpoint probe: failing from 3 of 3")


def test_error_rate_ran_on_its_scheduled_events_and_logged_each_minute(two_sites: Run) -> None:
    _, out, _ = two_sites
    lines = [json.loads(line) for line in (out / "logs" / "error_rate.jsonl").read_text().splitlines() if line]
    published = [line for line in lines if line.get("message") == "Published the site's target 5xx rate"]
    assert len(published) == 1 + 2 + HOLD_MINUTES + 1  # the minute before the story, two failing, the healed ones
    assert {line["site"] for line in published} == {"detour-site-shop"}
    last = list(published[-1]["minutes"].values())
    assert [minute["published"] for minute in last] == [float(FAILING_PERCENT)] * 4 + [0.0]
    assert [minute["rate"] for minute in last] == [0.0] * 5  # each healed minute's own rate
    last_failing = list(published[2]["minutes"])[-1]  # the newest minute of the second failing minute's run
    assert [minute["held_by"] for minute in last] == [last_failing] * 4 + [None]


# -- one site: today's story -------------------------------------------------------------------------


def test_one_site_plays_the_single_site_story(one_site: Run) -> None:
    succeeded, out, printed = one_site
    assert succeeded, printed
    in_order(
        printed,
        [
            "Detour rehearsal: a whole outage on loopback (no AWS account, no Docker)",
            "deployed template.yaml as hub stack 'detour'",
            "deployed sites/site.yaml as stack 'detour-site-www'",
            "www.detour.test: primary healthy (3/3 checkers say healthy); DNS www.detour.test A -> 127.0.0.1",
            "www.detour.test: the primary stops answering",
            "[SECONDARY]",
            "alarm detour/detour-site-www/primary-health: OK -> ALARM",
            f"<@{OPERATOR}> in Slack #{CHANNEL}: /detour update identified {UPDATE_MESSAGE}",  # no site to name
            f"ephemeral answer to <@{OPERATOR}>: Posted to the www.detour.test maintenance page",
            "www.detour.test: the primary comes back",
            "ALARM -> OK",
            "failover window closed",
        ],
    )
    assert "untouched" not in printed
    assert "removing" not in printed
    back = printed.index("www.detour.test: health check healthy")
    assert "A -> 127.0.0.1 (TTL 60) [PRIMARY]" in printed[back : printed.index("\n", back)]  # DNS fails back
    messages = json.loads((out / "slack.json").read_text())
    (root,) = [m for m in messages if m["thread_ts"] is None]
    assert root["channel"] == CHANNEL
    assert root["text"].startswith(":white_check_mark: www.detour.test recovered after ")
    assert "<title>www.detour.test: service restored</title>" in (out / "page" / "www" / "3-recovered.html").read_text()
    (window,) = json.loads((out / "windows.json").read_text())["www.detour.test"]
    assert window["ended_at"] is not None


# -- failures are loud ---------------------------------------------------------------------------------


def test_a_touched_bystander_fails_the_rehearsal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A message in the docs site's channel during the shop's outage (as a notify_slack that posted
    to the wrong channel would leave) is caught by the check, and the rehearsal fails."""
    real_post_update = Rehearsal._post_update

    def post_update_and_stray(self: Rehearsal, site: object) -> None:
        real_post_update(self, site)  # type: ignore[arg-type]
        self.slack.messages.append(Message(channel=CHANNEL, ts="9999.000001", text="stray", blocks=[]))

    monkeypatch.setattr(Rehearsal, "_post_update", post_update_and_stray)
    succeeded, _, printed = rehearse(tmp_path)
    assert not succeeded
    assert line_with(printed, f"Slack #{CHANNEL}: ", "untouched?").endswith("1 new message(s)")
    assert "FAILED: docs.detour.test was touched by shop.detour.test's outage: messages" in printed
    assert "the rehearsal FAILED: docs.detour.test was touched" in printed


def test_an_endpoint_probe_that_fails_during_the_5xx_act_fails_the_rehearsal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The act must show the 5xx rate failing the site over alone: if the health path fails too (here:
    every request fails, /health included), the check says so and the rehearsal fails."""
    real_minutes_until = Rehearsal._minutes_until

    def and_the_health_path_too(self: Rehearsal, site: Any, state: str) -> None:
        real_minutes_until(self, site, state)
        if state == "ALARM":
            site.primary.failing_percent, site.primary.health_path = 100, "/none"
            self.timeline.wait_for("the checkers to see it", lambda: site.health.healthy is False, 30)

    monkeypatch.setattr(Rehearsal, "_minutes_until", and_the_health_path_too)
    succeeded, _, printed = rehearse(tmp_path)
    assert not succeeded
    assert "FAILED: shop.detour.test's 5xx-rate outage: the endpoint probe said unhealthy in " in printed


def test_a_handler_that_raises_fails_the_rehearsal_and_so_does_a_dead_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detour_cli import rehearsal  # noqa: PLC0415
    from detour_cli.local.lambda_runtime import InProcessFunction  # noqa: PLC0415

    real_invoke = InProcessFunction.invoke

    def broken_refresh(self: InProcessFunction, event: dict, **kwargs: object) -> object:  # type: ignore[type-arg]
        if self.directory == "refresh_page" and "Records" in event:
            raise RuntimeError("S3 said no")
        if self.directory == "notify_slack" and "detour" in event:  # queued by the update: retried, then dead
            raise RuntimeError("Slack said no")
        return real_invoke(self, event, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(InProcessFunction, "invoke", broken_refresh)
    printed = io.StringIO()
    monkeypatch.setattr(rehearsal.sys, "stdout", printed)
    code = rehearsal.main(["--sites", "1", "--interval", "0.5", "--alarm-period", "1", "--out", str(tmp_path)])
    assert code == 1
    output = printed.getvalue()
    assert "refresh_page: FAILED RuntimeError: S3 said no" in output
    assert "the rehearsal FAILED: refresh_page raised RuntimeError: S3 said no" in output
    assert "notify_slack: FAILED" not in output  # the queued invocation fails apart from SNS deliveries
    dead = "detour-NotifySlackFunction (asynchronous) raised RuntimeError: Slack said no, 3 attempts, dead-lettered"
    assert dead in output
    assert "the update was not replied in the incident's Slack thread" in output
    assert (tmp_path / "timeline.txt").exists()  # the artifacts are written all the same
