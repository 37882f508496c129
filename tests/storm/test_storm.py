"""The storm (issue 9): a flapping history delivered to all three functions at once, by worker
processes, with duplicates, reordering and Lambda's retries; then every effect must be exact.

The second test adds faults: the local Slack rate-limiting (429, Retry-After) and failing (500) in
bursts, one chat.postMessage carried out but answered 500; DynamoDB and S3 throttled through the
fault proxy (including doomed calls that exhaust botocore's retries) and TransactionConflict. Every
attempt must end in success or raise; the dead-lettered deliveries are redriven with the faults off.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.fault_proxy import FaultPlan
from tests.support.storm import Pool, World, alarm_messages, check, format_summary, history, redrive, schedule


def test_a_storm_of_deliveries_converges_exactly(aws: str, tmp_path: Path) -> None:
    incidents = history(20, seed=9)
    deliveries = schedule(alarm_messages(incidents), seed=9)
    with World(aws) as world, Pool(world, workers=4, log_dir=tmp_path / "logs") as pool:
        run = pool.run(deliveries, deadline_s=120)
        summary, violations = check(world, incidents, [run])
    print(format_summary(summary))  # shown with -s, and on failure
    assert summary["deliveries"]["dead_lettered"] == 0, format_summary(summary)
    assert violations == [], format_summary(summary) + "\n" + "\n".join(violations[:40])


def test_a_storm_under_faults_ends_in_success_or_a_retry_and_converges_after_the_redrive(
    aws: str, tmp_path: Path
) -> None:
    incidents = history(10, seed=11)
    deliveries = schedule(alarm_messages(incidents), seed=11)
    with World(aws, with_proxy=True) as world, Pool(world, workers=4, log_dir=tmp_path / "logs") as pool:
        assert world.proxy is not None
        # the first post is carried out but answered 500, and so are its client's two retries
        world.slack.fail_next("ghost_post", "server_error", "server_error")
        world.slack.fail_fraction("ratelimited", 0.06, seed=11, burst=3)
        world.slack.fail_fraction("server_error", 0.02, seed=12, burst=3)
        world.proxy.set_plan(
            FaultPlan(
                dynamodb_throttle=0.02,
                s3_slowdown=0.08,  # the page writes only what changed: few S3 requests, so a larger share
                transaction_conflict=0.15,
                burst_chance=0.004,
                burst_s=0.3,
                doomed_calls=2,
                doom_chance=0.01,
                seed=11,
            )
        )
        storm = pool.run(deliveries, deadline_s=150)
        world.faults_off()
        runs = [storm, *redrive(pool, storm.dead_letters)]
        summary, violations = check(world, incidents, runs)
    print(format_summary(summary))
    report = format_summary(summary) + "\n" + "\n".join(violations[:40])
    faults = summary["faults"]
    assert faults["slack"].get("ratelimited", 0) > 0, report
    assert faults["slack"].get("ghost_post", 0) == 1, report
    assert faults["slack"].get("server_error", 0) >= 2, report
    assert any(k.startswith("dynamodb ") and "Conflict" not in k for k in faults["aws"]), report
    assert faults["aws"].get("dynamodb TransactionConflict", 0) > 0, report
    assert faults["aws"].get("s3 SlowDown", 0) > 0, report
    assert faults["aws"].get("doomed calls", 0) > 0, report
    assert summary["deliveries"]["failed_attempts"] > 0, report  # the Lambda-retry path ran
    assert summary["deliveries"]["retried_deliveries"] > 0, report
    assert summary["deliveries"]["still_dead_lettered"] == 0, report
    assert violations == [], report
