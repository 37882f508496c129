"""template.yaml, the maintenance page's part: the edge functions are the tested files, and
refresh_page and page_setup are wired like log_window with only the rights they need."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.template import Evaluator, site_parameters, source, transformed

EDGE = Path(__file__).resolve().parents[2] / "edge"
ALARM = {"Fn::Sub": "${AWS::StackName}-primary-health"}
DISTRIBUTION_ARN = {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}
PAGE_OBJECTS = [{"Fn::Sub": "${PageBucket.Arn}/index.html"}, {"Fn::Sub": "${PageBucket.Arn}/status.json"}]


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def evaluate(**parameters: str) -> Evaluator:
    return Evaluator(source(), site_parameters(**parameters))


def granted(role: str, **parameters: str) -> dict[str, dict[str, Any]]:
    resolved = evaluate(**parameters).resource(role)
    assert resolved is not None
    assert "ManagedPolicyArns" not in resolved
    (policy,) = resolved["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


# ---------------------------------------------------------------- edge functions


def test_the_viewer_request_function_is_exactly_the_tested_file() -> None:
    function = source()["Resources"]["PageRequestFunction"]["Properties"]
    assert function["FunctionCode"] == (EDGE / "viewer-request.js").read_text(), (
        "template.yaml's PageRequestFunction.FunctionCode differs from edge/viewer-request.js: copy the file in"
    )
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True


def test_the_viewer_response_function_is_exactly_the_tested_file_with_only_known_parameters() -> None:
    function = source()["Resources"]["PageResponseFunction"]["Properties"]
    code = (EDGE / "viewer-response.js").read_text()
    assert function["FunctionCode"] == {"Fn::Sub": code}, (
        "template.yaml's PageResponseFunction.FunctionCode differs from edge/viewer-response.js: copy the file in"
    )
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    # Fn::Sub would fail the deploy on an unknown name; the JS must not use ${...} of its own.
    assert set(re.findall(r"\$\{([^}]*)\}", code)) == {"RetryAfterSeconds"}
    assert "RetryAfterSeconds" in source()["Parameters"]


def test_both_cache_behaviours_run_both_edge_functions(cfn: dict[str, Any]) -> None:
    config = cfn["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    expected = [
        {
            "EventType": "viewer-request",
            "FunctionARN": {"Fn::GetAtt": ["PageRequestFunction", "FunctionMetadata.FunctionARN"]},
        },
        {
            "EventType": "viewer-response",
            "FunctionARN": {"Fn::GetAtt": ["PageResponseFunction", "FunctionMetadata.FunctionARN"]},
        },
    ]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert len(behaviours) == 2
    assert all(b["FunctionAssociations"] == expected for b in behaviours)


# ---------------------------------------------------------------- refresh_page


def test_refresh_page_subscribes_like_log_window_with_its_own_dead_letter_queue(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    (subscription,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription"
        and r["Properties"].get("Endpoint") == {"Fn::GetAtt": ["RefreshPageFunction", "Arn"]}
    ]
    assert subscription["TopicArn"] == {"Ref": "AlarmTopic"}
    assert (subscription["FilterPolicyScope"], subscription["FilterPolicy"]) == ("MessageBody", {"AlarmName": [ALARM]})
    dead_letters = {"Fn::GetAtt": ["RefreshPageDeadLetterQueue", "Arn"]}
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": dead_letters}
    (invoke_config,) = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
        and r["Properties"]["FunctionName"] == {"Ref": "RefreshPageFunction"}
    ]
    assert invoke_config["DestinationConfig"] == {"OnFailure": {"Destination": dead_letters}}
    assert invoke_config["MaximumRetryAttempts"] == 2
    assert resources["RefreshPageDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    alarm = resources["RefreshPageDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["RefreshPageDeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["AlarmActions"]) == (
        0,
        "GreaterThanThreshold",
        [{"Ref": "OperatorTopic"}],
    )
    queue_policy = resources["RefreshPageDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in queue_policy
    )


def test_refresh_page_is_told_its_bucket_distribution_and_wording(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["RefreshPageFunction"]["Properties"]
    env = function["Environment"]["Variables"]
    assert (env["PAGE_BUCKET"], env["DISTRIBUTION_ID"]) == ({"Ref": "PageBucket"}, {"Ref": "Distribution"})
    assert (env["CONTACT_URL"], env["DEFAULT_MESSAGE"]) == ({"Ref": "ContactUrl"}, {"Ref": "DefaultMessage"})
    assert (env["TABLE_NAME"], env["ALARM_NAMES"]) == ({"Ref": "IncidentsTable"}, ALARM)
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "RefreshPageLogGroup"}}
    site_name = source()["Resources"]["RefreshPageFunction"]["Properties"]["Environment"]["Variables"]["SITE_NAME"]
    assert evaluate().value(site_name) == "www.example.com"  # no SiteName: the domain
    assert evaluate(SiteName="Example Shop").value(site_name) == "Example Shop"


def assert_reads_and_writes_only_its_page(statements: dict[str, Any]) -> None:
    """It reads the two objects back (a publish never replaces a newer page) and may list the page's
    bucket (so a page not yet there is a 404, not a 403)."""
    publish = statements["PublishThePage"]
    assert (sorted(publish["Action"]), publish["Resource"]) == (["s3:GetObject", "s3:PutObject"], PAGE_OBJECTS)
    listing = statements["TellAMissingPageFromARefusal"]
    assert (listing["Action"], listing["Resource"]) == ("s3:ListBucket", {"Fn::GetAtt": ["PageBucket", "Arn"]})


def test_refresh_page_may_only_publish_its_two_objects_invalidate_its_distribution_and_use_incidents() -> None:
    statements = granted("RefreshPageRole")
    assert set(statements) == {
        "OwnLogs",
        "IncidentsAndIdempotency",
        "PublishThePage",
        "TellAMissingPageFromARefusal",
        "InvalidateThePage",
        "DeadLetters",
    }
    assert statements["OwnLogs"]["Resource"] == {"Fn::GetAtt": ["RefreshPageLogGroup", "Arn"]}
    incidents = statements["IncidentsAndIdempotency"]
    # it records the transition it handles (idempotently), like the other functions
    assert set(incidents["Action"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }
    assert incidents["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SITE#*", "IDEMPOTENCY#refresh_page"]}
    }
    assert_reads_and_writes_only_its_page(statements)
    assert (statements["InvalidateThePage"]["Action"], statements["InvalidateThePage"]["Resource"]) == (
        "cloudfront:CreateInvalidation",
        DISTRIBUTION_ARN,
    )
    assert statements["DeadLetters"]["Resource"] == {"Fn::GetAtt": ["RefreshPageDeadLetterQueue", "Arn"]}
    actions = [a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not any(a.endswith("*") for a in actions)
    assert "Tracing" in granted("RefreshPageRole", EnableTracing="true")


# ---------------------------------------------------------------- page_setup (custom resource)


def test_the_published_page_resource_is_given_everything_the_page_shows(cfn: dict[str, Any]) -> None:
    resource = cfn["Resources"]["PublishedPage"]
    props = resource["Properties"]
    assert resource["Type"] == "Custom::MaintenancePage"
    assert props["ServiceToken"] == {"Fn::GetAtt": ["PageSetupFunction", "Arn"]}
    assert (props["BucketName"], props["DistributionId"], props["SiteId"]) == (
        {"Ref": "PageBucket"},
        {"Ref": "Distribution"},
        {"Ref": "HealthCheck"},
    )
    # A changed layer (e.g. an edited page template) changes this property, so the deploy republishes.
    layer = next(k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::LayerVersion")
    assert props["PageTemplateVersion"] == {"Ref": layer}
    assert int(props["ServiceTimeout"]) <= 900


def test_page_setup_may_publish_and_empty_its_bucket_and_nothing_else() -> None:
    statements = granted("PageSetupRole")
    assert set(statements) == {
        "OwnLogs",
        "ReadIncidents",
        "PublishThePage",
        "TellAMissingPageFromARefusal",
        "InvalidateThePage",
        "EmptyTheBucketOnDelete",
        "DeleteEveryVersionOnDelete",
    }
    assert_reads_and_writes_only_its_page(statements)
    assert statements["EmptyTheBucketOnDelete"]["Resource"] == {"Fn::GetAtt": ["PageBucket", "Arn"]}
    assert statements["DeleteEveryVersionOnDelete"]["Resource"] == {"Fn::Sub": "${PageBucket.Arn}/*"}
    assert statements["InvalidateThePage"]["Resource"] == DISTRIBUTION_ARN


def test_each_page_function_logs_to_its_own_group(cfn: dict[str, Any]) -> None:
    for function, group in (("RefreshPageFunction", "RefreshPageLogGroup"), ("PageSetupFunction", "PageSetupLogGroup")):
        assert cfn["Resources"][function]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group}}
        assert cfn["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("mailto:support@example.com", True),
        ("https://example.com/help", True),
        ("http://example.com/help", False),
        ("javascript:alert(1)", False),
        ('https://example.com/"><script>', False),
        ("https://exa mple.com", False),
    ],
)
def test_the_contact_link_parameter_takes_only_https_or_mailto(value: str, accepted: bool) -> None:
    pattern = re.compile(source()["Parameters"]["ContactUrl"]["AllowedPattern"])
    assert bool(pattern.fullmatch(value)) is accepted


def test_the_page_parameters_are_grouped_under_maintenance_page() -> None:
    groups = source()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    (page,) = [g for g in groups if g["Label"]["default"] == "Maintenance page"]
    assert {"SiteName", "ContactUrl", "DefaultMessage", "RetryAfterSeconds"} <= set(page["Parameters"])
    assert {"RefreshPageDeadLetterQueueUrl"} <= set(source()["Outputs"])


def test_refresh_page_sweeps_every_five_minutes_and_knows_its_site(cfn: dict[str, Any]) -> None:
    """A resolution stops being news after RESOLVED_FOR with no alarm to say so: the schedule
    republishes then (and writes nothing while the page is what it should be)."""
    function = source()["Resources"]["RefreshPageFunction"]["Properties"]
    assert function["Environment"]["Variables"]["SITE_ID"] == {"Ref": "HealthCheck"}
    assert function["Events"]["Sweep"]["Type"] == "Schedule"
    assert function["Events"]["Sweep"]["Properties"]["Schedule"] == "rate(5 minutes)"
    (rule,) = [
        r["Properties"]
        for r in cfn["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and any(t["Arn"] == {"Fn::GetAtt": ["RefreshPageFunction", "Arn"]} for t in r["Properties"]["Targets"])
    ]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule.get("State", "ENABLED") == "ENABLED"
