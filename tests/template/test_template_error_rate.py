"""error_rate in the hub (template.yaml): every minute on a schedule, with its own log group and
dead-letter queue like the other functions, and a role that can list the sites, read metrics and
publish into Detour's namespace only (ADR 0002)."""

from __future__ import annotations

from typing import Any

import pytest

from detour.signals import error_rate
from tests.support.template import Evaluator, hub_parameters, site_source, source, transformed

TABLE = {"Fn::GetAtt": ["IncidentsTable", "Arn"]}
REGISTRY = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["SITES", "SITE_ALARMS"]}}
DEAD_LETTERS = {"Fn::GetAtt": ["ErrorRateDeadLetterQueue", "Arn"]}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def granted(**parameters: str) -> dict[str, dict[str, Any]]:
    role = Evaluator(source(), hub_parameters(**parameters)).resource("ErrorRateRole")
    assert role is not None
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole and its logs:* on *
    (policy,) = role["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def test_error_rate_runs_every_minute_on_a_schedule(cfn: dict[str, Any]) -> None:
    """The sites' error-rate alarms evaluate one-minute periods: each minute needs its datapoint."""
    function = source()["Resources"]["ErrorRateFunction"]["Properties"]
    (event,) = function["Events"].values()
    assert (event["Type"], event["Properties"]["Schedule"]) == ("Schedule", "rate(1 minute)")
    (rule,) = [
        r["Properties"]
        for r in cfn["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and any(t["Arn"] == {"Fn::GetAtt": ["ErrorRateFunction", "Arn"]} for t in r["Properties"]["Targets"])
    ]
    assert rule["ScheduleExpression"] == "rate(1 minute)"
    assert rule.get("State", "ENABLED") == "ENABLED"
    assert not any(
        r["Type"] == "AWS::SNS::Subscription"
        and r["Properties"].get("Endpoint") == {"Fn::GetAtt": ["ErrorRateFunction", "Arn"]}
        for r in cfn["Resources"].values()
    )  # no alarm event reaches it


def test_error_rate_is_a_function_like_the_others(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["ErrorRateFunction"]["Properties"]
    assert function["Handler"] == "app.lambda_handler"
    assert function["Runtime"] == "python3.12"
    assert function["Layers"] == [cfn["Resources"]["LogWindowFunction"]["Properties"]["Layers"][0]]
    assert function["Role"] == {"Fn::GetAtt": ["ErrorRateRole", "Arn"]}
    assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "error_rate"
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "ErrorRateLogGroup"}}
    group = cfn["Resources"]["ErrorRateLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}/error-rate"}
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert source()["Resources"]["ErrorRateFunction"]["Properties"]["CodeUri"] == "functions/error_rate/"


def test_a_failed_run_is_retried_then_kept_in_an_encrypted_queue_that_alarms(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    (invoke_config,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": "ErrorRateFunction"}
    ]
    assert invoke_config["DestinationConfig"] == {"OnFailure": {"Destination": DEAD_LETTERS}}
    assert invoke_config["MaximumRetryAttempts"] == 2
    # a run republishes the last five minutes: one older than that adds nothing the next runs do not
    assert invoke_config["MaximumEventAgeInSeconds"] == 60 * error_rate.WINDOW_MINUTES
    queue = resources["ErrorRateDeadLetterQueue"]["Properties"]
    assert (queue["SqsManagedSseEnabled"], queue["MessageRetentionPeriod"]) == (True, 1209600)
    policy = resources["ErrorRateDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [(s["Effect"], s["Condition"]) for s in policy] == [("Deny", {"Bool": {"aws:SecureTransport": "false"}})]
    alarm = resources["ErrorRateDeadLetterAlarm"]["Properties"]
    assert alarm["AlarmName"] == {"Fn::Sub": "${AWS::StackName}-error-rate-dead-letters"}
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["ErrorRateDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["AlarmActions"]) == (
        0,
        "GreaterThanThreshold",
        [{"Ref": "OperatorTopic"}],
    )
    assert source()["Outputs"]["ErrorRateDeadLetterQueueUrl"]["Value"] == {"Ref": "ErrorRateDeadLetterQueue"}


def test_error_rate_may_list_the_sites_read_metrics_and_publish_only_into_detours_namespace() -> None:
    statements = granted()
    assert set(statements) == {"OwnLogs", "SiteRegistry", "ReadLoadBalancerMetrics", "PublishTheRates", "DeadLetters"}
    assert all(s["Effect"] == "Allow" for s in statements.values())
    assert (statements["OwnLogs"]["Action"], statements["OwnLogs"]["Resource"]) == (
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        {"Fn::GetAtt": ["ErrorRateLogGroup", "Arn"]},
    )
    registry = statements["SiteRegistry"]  # one query lists every site; nothing else of the table
    assert (registry["Action"], registry["Resource"], registry["Condition"]) == ("dynamodb:Query", TABLE, REGISTRY)
    read = statements["ReadLoadBalancerMetrics"]  # GetMetricData has no resource-level permission
    assert (read["Action"], read["Resource"], read.get("Condition")) == ("cloudwatch:GetMetricData", "*", None)
    publish = statements["PublishTheRates"]
    assert (publish["Action"], publish["Resource"]) == ("cloudwatch:PutMetricData", "*")
    assert publish["Condition"] == {"StringEquals": {"cloudwatch:namespace": error_rate.NAMESPACE}}
    assert error_rate.NAMESPACE == "Detour"
    assert (statements["DeadLetters"]["Action"], statements["DeadLetters"]["Resource"]) == (
        "sqs:SendMessage",
        DEAD_LETTERS,
    )
    assert "Tracing" in granted(EnableTracing="true")


def test_the_sites_error_rate_alarm_watches_what_error_rate_publishes() -> None:
    """sites/site.yaml's alarm reads the metric this function writes: same namespace, name and Site
    dimension, whose value is the site stack's name (what the registry holds as stack_name); and the
    function queries exactly the dimension values the site's parameters accept."""
    site = site_source()
    alarm = site["Resources"]["ErrorRateAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (error_rate.NAMESPACE, error_rate.METRIC_NAME)
    assert alarm["Dimensions"] == [{"Name": error_rate.SITE_DIMENSION, "Value": {"Ref": "AWS::StackName"}}]
    assert (alarm["Period"], alarm["Statistic"]) == (error_rate.PERIOD_S, "Maximum")
    for parameter, pattern in (
        ("ErrorRateTargetGroup", error_rate.TARGET_GROUP),
        ("ErrorRateLoadBalancer", error_rate.LOAD_BALANCER),
    ):
        assert site["Parameters"][parameter]["AllowedPattern"] == f"^({pattern.pattern})?$"
