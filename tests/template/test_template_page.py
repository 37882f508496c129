"""The maintenance pages' part of the hub (template.yaml): the edge functions are the tested files,
refresh_page and site_setup are wired with only the rights they need over every site's page, and
PublishedPages republishes them all when the layer changes. The site's side is test_site_template."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.template import Evaluator, hub_parameters, site_source, source, transformed

EDGE = Path(__file__).resolve().parents[2] / "edge"
ANY_DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/*"  # this account's, any of them
SITE_PAGES = {"Fn::Sub": "${PageBucket.Arn}/sites/*"}
TABLE = {"Fn::GetAtt": ["IncidentsTable", "Arn"]}
REGISTRY = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["SITES", "SITE_ALARMS"]}}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def granted(role: str, **parameters: str) -> dict[str, dict[str, Any]]:
    resolved = Evaluator(source(), hub_parameters(**parameters)).resource(role)
    assert resolved is not None
    assert "ManagedPolicyArns" not in resolved
    (policy,) = resolved["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def actions(statement: dict[str, Any]) -> set[str]:
    return {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])


# ---------------------------------------------------------------- edge functions


def test_the_viewer_request_function_is_exactly_the_tested_file() -> None:
    function = source()["Resources"]["PageRequestFunction"]["Properties"]
    assert function["FunctionCode"] == (EDGE / "viewer-request.js").read_text(), (
        "template.yaml's PageRequestFunction.FunctionCode differs from edge/viewer-request.js: copy the file in"
    )
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True


def test_the_viewer_response_function_is_exactly_the_tested_file_and_the_same_for_every_site() -> None:
    function = source()["Resources"]["PageResponseFunction"]["Properties"]
    code = (EDGE / "viewer-response.js").read_text()
    # as it is, no Fn::Sub: every site's distribution runs it, each site's Retry-After comes with its page
    assert function["FunctionCode"] == code, (
        "template.yaml's PageResponseFunction.FunctionCode differs from edge/viewer-response.js: copy the file in"
    )
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True
    assert "x-amz-meta-retry-after" in code


def test_the_headers_policy_sets_security_headers_and_leaves_retry_after_to_the_function(cfn: dict[str, Any]) -> None:
    config = cfn["Resources"]["PageHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    # Only a default for error answers, which no viewer-response function sees: overriding would
    # replace every site's own Retry-After with one value.
    assert config["CustomHeadersConfig"]["Items"] == [{"Header": "Retry-After", "Value": "120", "Override": False}]
    assert site_source()["Parameters"]["RetryAfterSeconds"]["Default"] == 120
    security = config["SecurityHeadersConfig"]
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ContentTypeOptions"] == {"Override": True}
    assert "default-src 'none'" in security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "StrictTransportSecurity" not in security  # see the template: HSTS could trap an HTTP primary


# ---------------------------------------------------------------- refresh_page


def test_refresh_page_subscribes_like_log_window_with_its_own_dead_letter_queue(cfn: dict[str, Any]) -> None:
    resources = cfn["Resources"]
    dead_letters = {"Fn::GetAtt": ["RefreshPageDeadLetterQueue", "Arn"]}
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
    (undeliverable,) = [s for s in queue_policy if s["Effect"] == "Allow"]
    assert undeliverable["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "AlarmTopic"}}}


def test_refresh_page_is_told_only_its_bucket(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["RefreshPageFunction"]["Properties"]
    env = function["Environment"]["Variables"]
    assert env["PAGE_BUCKET"] == {"Ref": "PageBucket"}  # which site, its wording and distribution: the registry
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "RefreshPageLogGroup"}}


def assert_reads_and_writes_only_the_sites_pages(statements: dict[str, Any]) -> None:
    """It reads the objects back (a publish never replaces a newer page) and may list the pages'
    bucket (so a page not yet there is a 404, not a 403); it may invalidate any distribution of the
    account, as the registry names it (a stray invalidation only costs a refetch)."""
    publish = statements["PublishThePages"]
    assert (sorted(publish["Action"]), publish["Resource"]) == (["s3:GetObject", "s3:PutObject"], SITE_PAGES)
    listing = statements["TellAMissingPageFromARefusal"]
    assert (listing["Action"], listing["Resource"]) == ("s3:ListBucket", {"Fn::GetAtt": ["PageBucket", "Arn"]})
    invalidate = statements["InvalidateThePages"]
    assert (invalidate["Action"], invalidate["Resource"]) == ("cloudfront:CreateInvalidation", ANY_DISTRIBUTION)


def test_refresh_page_may_only_publish_the_sites_pages_invalidate_and_use_incidents_and_the_registry() -> None:
    statements = granted("RefreshPageRole")
    assert set(statements) == {
        "OwnLogs",
        "IncidentsAndIdempotency",
        "SiteRegistry",
        "PublishThePages",
        "TellAMissingPageFromARefusal",
        "InvalidateThePages",
        "SignalHealthChecks",  # which signal failed (ADR 0002): tests/template/test_template.py
        "SignalAlarms",
        "DeadLetters",
    }
    assert statements["OwnLogs"]["Resource"] == {"Fn::GetAtt": ["RefreshPageLogGroup", "Arn"]}
    incidents = statements["IncidentsAndIdempotency"]
    # it records the transition it handles (idempotently), like the other functions
    assert actions(incidents) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }
    assert incidents["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SITE#*", "IDEMPOTENCY#refresh_page"]}
    }
    registry = statements["SiteRegistry"]  # the sweep lists every site; a transition reads one
    assert (actions(registry), registry["Resource"], registry["Condition"]) == (
        {"dynamodb:GetItem", "dynamodb:Query"},
        TABLE,
        REGISTRY,
    )
    assert_reads_and_writes_only_the_sites_pages(statements)
    assert statements["DeadLetters"]["Resource"] == {"Fn::GetAtt": ["RefreshPageDeadLetterQueue", "Arn"]}
    every = [a for s in statements.values() for a in actions(s)]
    assert not any(a.endswith("*") for a in every)
    assert "Tracing" in granted("RefreshPageRole", EnableTracing="true")


def test_the_pages_prefix_is_the_one_the_sites_distributions_read() -> None:
    """refresh_page writes sites/<id>/...; a site's OriginPath is /sites/<health check id>; the bucket
    policy lets CloudFront read sites/*: the three must agree."""
    origin = site_source()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["OriginPath"] == {"Fn::Sub": "/sites/${HealthCheck}"}
    policy = source()["Resources"]["PageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in policy if s["Effect"] == "Allow"]
    assert allow["Resource"] == SITE_PAGES


# ---------------------------------------------------------------- site_setup (custom resources)


def test_site_setup_is_the_renamed_page_setup(cfn: dict[str, Any]) -> None:
    source_function = source()["Resources"]["SiteSetupFunction"]["Properties"]
    assert source_function["CodeUri"] == "functions/site_setup/"
    assert (Path(__file__).resolve().parents[2] / "functions" / "site_setup" / "app.py").is_file()
    function = cfn["Resources"]["SiteSetupFunction"]["Properties"]
    env = function["Environment"]["Variables"]
    assert (env["POWERTOOLS_SERVICE_NAME"], env["PAGE_BUCKET"]) == ("site_setup", {"Ref": "PageBucket"})
    group = cfn["Resources"]["SiteSetupLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}/site-setup"}
    assert function["Timeout"] <= 900
    assert "PageSetupFunction" not in cfn["Resources"]


def test_published_pages_republishes_every_site_when_the_layer_changes(cfn: dict[str, Any]) -> None:
    resource = cfn["Resources"]["PublishedPages"]
    assert resource["Type"] == "Custom::DetourPages"
    props = resource["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["SiteSetupFunction", "Arn"]}
    # A changed layer (e.g. an edited page template) changes this property, so the deploy republishes.
    layer = next(k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::LayerVersion")
    assert props["PageTemplateVersion"] == {"Ref": layer}
    assert int(props["ServiceTimeout"]) == 600


def test_site_setup_may_keep_the_registry_publish_and_remove_pages_and_nothing_else() -> None:
    statements = granted("SiteSetupRole")
    assert set(statements) == {
        "OwnLogs",
        "SiteRegistry",
        "ReadIncidents",
        "PublishThePages",
        "TellAMissingPageFromARefusal",
        "InvalidateThePages",
        "EmptyAPrefixOnDelete",
        "DeleteEveryVersionOnDelete",
    }
    registry = statements["SiteRegistry"]
    assert (actions(registry), registry["Resource"], registry["Condition"]) == (
        {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"},
        TABLE,
        REGISTRY,
    )
    incidents = statements["ReadIncidents"]  # what the page shows: read only
    assert (actions(incidents), incidents["Condition"]) == (
        {"dynamodb:GetItem", "dynamodb:Query"},
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SITE#*"]}},
    )
    assert_reads_and_writes_only_the_sites_pages(statements)
    assert statements["EmptyAPrefixOnDelete"]["Action"] == "s3:ListBucketVersions"
    assert statements["EmptyAPrefixOnDelete"]["Resource"] == {"Fn::GetAtt": ["PageBucket", "Arn"]}
    assert statements["DeleteEveryVersionOnDelete"]["Action"] == "s3:DeleteObjectVersion"
    assert statements["DeleteEveryVersionOnDelete"]["Resource"] == SITE_PAGES
    assert "Tracing" in granted("SiteSetupRole", EnableTracing="true")


def test_each_page_function_logs_to_its_own_group(cfn: dict[str, Any]) -> None:
    for function, group in (("RefreshPageFunction", "RefreshPageLogGroup"), ("SiteSetupFunction", "SiteSetupLogGroup")):
        assert cfn["Resources"][function]["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group}}
        assert cfn["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# ---------------------------------------------------------------- a site's page parameters


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
    pattern = re.compile(site_source()["Parameters"]["ContactUrl"]["AllowedPattern"])
    assert bool(pattern.fullmatch(value)) is accepted


def test_the_retry_after_parameter_is_a_site_setting_in_seconds() -> None:
    retry_after = site_source()["Parameters"]["RetryAfterSeconds"]
    assert (retry_after["Type"], retry_after["Default"], retry_after["MinValue"], retry_after["MaxValue"]) == (
        "Number",
        120,
        1,
        86400,
    )
    # within what the viewer-response function passes on (1 to 6 digits), else it would answer 120
    assert re.search(r"\[0-9\]\{1,6\}", (EDGE / "viewer-response.js").read_text())


def test_refresh_page_sweeps_every_five_minutes(cfn: dict[str, Any]) -> None:
    """A resolution stops being news after RESOLVED_FOR with no alarm to say so: the schedule
    republishes then (and writes nothing while the page is what it should be)."""
    function = source()["Resources"]["RefreshPageFunction"]["Properties"]
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
