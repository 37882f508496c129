"""template.yaml: the SAM transform, the decisions its conditions and rules make, and its security."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.template import Evaluator, site_parameters, source, transformed

ALARM = {"Fn::Sub": "${AWS::StackName}-primary-health"}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def resources_of(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == kind}


def evaluate(**parameters: str) -> Evaluator:
    return Evaluator(source(), site_parameters(**parameters))


# ---------------------------------------------------------------- parameters and rules


def test_every_parameter_is_described() -> None:
    assert all(p.get("Description") for p in source()["Parameters"].values())


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        (
            "DomainName",
            ["www.example.com", "status.shop.example.co.uk"],
            ["WWW.example.com", "example", "x.com."],
        ),
        ("HostedZoneId", ["Z0123456789ABCDEFGHIJ"], ["0123", "z012"]),
        ("PrimaryTarget", ["203.0.113.10", "my-alb-1.us-east-1.elb.amazonaws.com"], ["http://x.com", "a b"]),
        ("HealthCheckPath", ["/", "/healthz?full=1"], ["healthz", "/a b"]),
        (
            "HealthCheckRegions",
            ["us-east-1,eu-west-1,ap-southeast-1"],
            ["us-east-1,eu-west-1", "us-east-1, eu-west-1,sa-east-1", "us-east-2,eu-west-1,sa-east-1"],
        ),
        (
            "CertificateArn",
            ["arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
            ["arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
        ),
        ("OperatorEmail", ["", "oncall@example.com"], ["oncall", "a@b"]),
    ],
)
def test_parameter_patterns_accept_and_reject(parameter: str, good: list[str], bad: list[str]) -> None:
    pattern = re.compile(source()["Parameters"][parameter]["AllowedPattern"])
    assert all(pattern.fullmatch(value) for value in good)
    assert not any(pattern.fullmatch(value) for value in bad)


def test_the_defaults_with_a_load_balancer_break_no_rule() -> None:
    assert evaluate().failed_rules() == []


@pytest.mark.parametrize(
    ("parameters", "region", "message"),
    [
        ({}, "eu-west-1", "Detour must be deployed in us-east-1"),
        ({"PrimaryHostedZoneId": ""}, "us-east-1", "PrimaryKind LoadBalancer needs PrimaryHostedZoneId"),
        ({"HealthCheckProtocol": "HTTPS_STR_MATCH"}, "us-east-1", "need HealthCheckSearchString"),
        (
            {"PrimaryKind": "IPv4", "PrimaryTarget": "203.0.113.10", "DualStack": "true"},
            "us-east-1",
            "DualStack needs",
        ),
    ],
)
def test_rules_refuse_impossible_deployments_with_a_reason(
    parameters: dict[str, str], region: str, message: str
) -> None:
    failures = Evaluator(source(), site_parameters(**parameters), region=region).failed_rules()
    assert len(failures) == 1
    assert message in failures[0]


# ---------------------------------------------------------------- health check and records


def test_a_load_balancer_primary_is_an_alias_that_evaluates_target_health() -> None:
    stack = evaluate()
    record = stack.resource("PrimaryRecordA")
    assert record is not None
    assert record["Failover"] == "PRIMARY"
    assert record["HealthCheckId"] == {"Ref": "HealthCheck"}
    assert record["AliasTarget"] == {
        "DNSName": "my-alb-1234567890.us-east-1.elb.amazonaws.com",
        "HostedZoneId": "Z35SXDOTRQ7X7K",
        "EvaluateTargetHealth": True,
    }
    assert "TTL" not in record
    assert "ResourceRecords" not in record
    check = stack.resource("HealthCheck")["HealthCheckConfig"]  # type: ignore[index]
    assert check["FullyQualifiedDomainName"] == "my-alb-1234567890.us-east-1.elb.amazonaws.com"
    assert "IPAddress" not in check


def test_an_ip_primary_is_an_a_record_with_ttl_60_and_a_probe_of_the_ip() -> None:
    stack = evaluate(PrimaryKind="IPv4", PrimaryTarget="203.0.113.10", PrimaryHostedZoneId="")
    record = stack.resource("PrimaryRecordA")
    assert record is not None
    assert (record["ResourceRecords"], record["TTL"]) == (["203.0.113.10"], "60")
    assert "AliasTarget" not in record
    check = stack.resource("HealthCheck")["HealthCheckConfig"]  # type: ignore[index]
    # probes the IP; the domain only rides along as Host header and SNI
    assert (check["IPAddress"], check["FullyQualifiedDomainName"]) == ("203.0.113.10", "www.example.com")
    assert stack.failed_rules() == []


def test_the_secondary_is_cloudfront_without_a_health_check() -> None:
    record = evaluate().resource("SecondaryRecordA")
    assert record is not None
    assert record["Failover"] == "SECONDARY"
    assert "HealthCheckId" not in record
    assert record["AliasTarget"] == {
        "DNSName": {"Fn::GetAtt": ["Distribution", "DomainName"]},
        "HostedZoneId": "Z2FDTNDATAQYW2",
        "EvaluateTargetHealth": False,
    }


def test_aaaa_records_exist_only_for_a_dual_stack_balancer() -> None:
    assert evaluate().resource("PrimaryRecordAAAA") is None
    assert evaluate().resource("SecondaryRecordAAAA") is None
    dual = evaluate(DualStack="true")
    primary, secondary = dual.resource("PrimaryRecordAAAA"), dual.resource("SecondaryRecordAAAA")
    assert primary is not None
    assert secondary is not None
    assert (primary["Type"], primary["Failover"], primary["AliasTarget"]["EvaluateTargetHealth"]) == (
        "AAAA",
        "PRIMARY",
        True,
    )
    assert (secondary["Type"], secondary["Failover"]) == ("AAAA", "SECONDARY")


@pytest.mark.parametrize(
    ("protocol", "path", "search", "sni"),
    [
        ("HTTPS", "/", None, True),
        ("HTTP", "/", None, None),
        ("HTTPS_STR_MATCH", "/", "ok", True),
        ("HTTP_STR_MATCH", "/", "ok", None),
        ("TCP", None, None, None),
    ],
)
def test_health_check_follows_the_protocol(
    protocol: str, path: str | None, search: str | None, sni: bool | None
) -> None:
    config = evaluate(HealthCheckProtocol=protocol, HealthCheckSearchString="ok").resource("HealthCheck")[
        "HealthCheckConfig"
    ]  # type: ignore[index]
    assert config["Type"] == protocol
    assert config.get("ResourcePath") == path
    assert config.get("SearchString") == search
    assert config.get("EnableSNI") == sni
    assert (config["RequestInterval"], config["FailureThreshold"]) == ("10", "3")
    assert config["Regions"] == ["us-east-1", "eu-west-1", "ap-southeast-1"]


# ---------------------------------------------------------------- page bucket and distribution


def test_the_page_bucket_is_private_encrypted_versioned_and_tls_only(cfn: dict[str, Any]) -> None:
    bucket = cfn["Resources"]["PageBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    statements = cfn["Resources"]["PageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert allow == [
        {
            "Sid": "OnlyThisDistributionReads",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "${PageBucket.Arn}/*"},
            "Condition": {
                "StringEquals": {
                    "AWS:SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
                    }
                }
            },
        }
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_the_distribution_serves_the_domain_over_tls_through_oac(cfn: dict[str, Any]) -> None:
    config = cfn["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == [{"Ref": "DomainName"}]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": "CertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert config["IPV6Enabled"] is True
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["OriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert origin["DomainName"] == {"Fn::GetAtt": ["PageBucket", "RegionalDomainName"]}  # REST, not website
    behaviors = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert all(b["ViewerProtocolPolicy"] == "redirect-to-https" for b in behaviors)
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": "PageHeadersPolicy"} for b in behaviors)
    status = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/status.json")
    assert status["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    errors = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]}
    assert {code: (e["ResponseCode"], e["ResponsePagePath"]) for code, e in errors.items()} == {
        403: (503, "/index.html"),
        404: (503, "/index.html"),
    }


def test_the_page_answers_with_retry_after_and_security_headers(cfn: dict[str, Any]) -> None:
    config = cfn["Resources"]["PageHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    assert config["CustomHeadersConfig"]["Items"] == [
        {"Header": "Retry-After", "Value": {"Ref": "RetryAfterSeconds"}, "Override": True}
    ]
    security = config["SecurityHeadersConfig"]
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert "default-src 'none'" in security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "StrictTransportSecurity" not in security  # see the template: HSTS could trap an HTTP primary


# ---------------------------------------------------------------- alarm, topic, store


def test_the_alarm_watches_the_health_check_and_reports_every_state(cfn: dict[str, Any]) -> None:
    alarm = cfn["Resources"]["HealthAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Route53", "HealthCheckStatus")
    assert alarm["Dimensions"] == [{"Name": "HealthCheckId", "Value": {"Ref": "HealthCheck"}}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Minimum",
        60,
        1,
        "LessThanThreshold",
    )
    assert alarm["TreatMissingData"] == "missing"
    topic = [{"Ref": "AlarmTopic"}]
    assert alarm["AlarmActions"] == alarm["OKActions"] == alarm["InsufficientDataActions"] == topic
    assert alarm["AlarmName"] == ALARM


def test_only_this_stacks_alarm_may_publish_over_tls_to_an_encrypted_topic(cfn: dict[str, Any]) -> None:
    assert cfn["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "TopicKey"}
    statements = cfn["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(
        ":alarm:${AWS::StackName}-primary-health"
    )
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    key = cfn["Resources"]["TopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    grant = next(s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_the_key_and_the_operator_topic_admit_exactly_this_stacks_alarms(cfn: dict[str, Any]) -> None:
    """Named one by one: `alarm:<stack>-*` would also admit the alarms of a stack named <stack>-staging."""
    prefix = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
    alarms = {
        r["Properties"]["AlarmName"]["Fn::Sub"]: r["Properties"]
        for r in resources_of(cfn, "AWS::CloudWatch::Alarm").values()
    }
    key = cfn["Resources"]["TopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    (grant,) = [s for s in key if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert "ArnLike" not in grant["Condition"]
    assert {arn["Fn::Sub"].removeprefix(prefix) for arn in grant["Condition"]["ArnEquals"]["aws:SourceArn"]} == set(
        alarms
    )
    operator = cfn["Resources"]["OperatorTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in operator if s["Effect"] == "Allow"]
    to_operator = {name for name, props in alarms.items() if {"Ref": "OperatorTopic"} in props.get("AlarmActions", [])}
    assert {
        arn["Fn::Sub"].removeprefix(prefix) for arn in allow["Condition"]["ArnEquals"]["aws:SourceArn"]
    } == to_operator
    assert to_operator  # the dead-letter alarms


def test_the_incidents_table_is_recoverable_encrypted_and_expires_idempotency_records(
    cfn: dict[str, Any],
) -> None:
    table = cfn["Resources"]["IncidentsTable"]
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


# ---------------------------------------------------------------- the alarm-driven functions

# function -> the statements its role may have, beyond its own logs and dead letters
FUNCTION_GRANTS = {
    "LogWindow": {"IncidentsAndIdempotency"},
    "NotifySlack": {"IncidentsAndIdempotency", "SlackSecret"},
}


@pytest.mark.parametrize("name", FUNCTION_GRANTS)
def test_each_function_subscribes_with_a_body_filter_for_this_stacks_alarm_only(cfn: dict[str, Any], name: str) -> None:
    (props,) = [
        r["Properties"]
        for r in resources_of(cfn, "AWS::SNS::Subscription").values()
        if r["Properties"].get("Endpoint") == {"Fn::GetAtt": [f"{name}Function", "Arn"]}
    ]
    assert props["Protocol"] == "lambda"
    assert props["TopicArn"] == {"Ref": "AlarmTopic"}
    assert props["FilterPolicyScope"] == "MessageBody"
    assert props["FilterPolicy"] == {"AlarmName": [ALARM]}
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [f"{name}DeadLetterQueue", "Arn"]}}
    env = cfn["Resources"][f"{name}Function"]["Properties"]["Environment"]["Variables"]
    assert env["ALARM_NAMES"] == ALARM  # the handler refuses any other alarm too
    assert env["TABLE_NAME"] == {"Ref": "IncidentsTable"}


@pytest.mark.parametrize("name", FUNCTION_GRANTS)
def test_each_function_fails_into_an_encrypted_dead_letter_queue_that_alarms(cfn: dict[str, Any], name: str) -> None:
    resources = cfn["Resources"]
    (invoke_config,) = [
        r["Properties"]
        for r in resources_of(cfn, "AWS::Lambda::EventInvokeConfig").values()
        if r["Properties"]["FunctionName"] == {"Ref": f"{name}Function"}
    ]
    assert invoke_config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [f"{name}DeadLetterQueue", "Arn"]}}
    }
    assert invoke_config["MaximumRetryAttempts"] == 2
    queue = resources[f"{name}DeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 1209600
    alarm = resources[f"{name}DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [f"{name}DeadLetterQueue", "QueueName"]}}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [{"Ref": "OperatorTopic"}]


def statements_of(role: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert role is not None
    (policy,) = role["Policies"]
    return policy["PolicyDocument"]["Statement"]


@pytest.mark.parametrize(("name", "grants"), FUNCTION_GRANTS.items())
def test_each_function_role_grants_only_its_own_resources(name: str, grants: set[str]) -> None:
    role = evaluate().resource(f"{name}Role")
    assert role is not None
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole and its logs:* on *
    granted = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements_of(role)}
    assert set(granted) == {"OwnLogs", "DeadLetters", *grants}
    assert granted["OwnLogs"] == (
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        {"Fn::GetAtt": [f"{name}LogGroup", "Arn"]},
    )
    assert granted["DeadLetters"] == ("sqs:SendMessage", {"Fn::GetAtt": [f"{name}DeadLetterQueue", "Arn"]})
    if "IncidentsAndIdempotency" in grants:
        (statement,) = [s for s in statements_of(role) if s["Sid"] == "IncidentsAndIdempotency"]
        assert statement["Resource"] == {"Fn::GetAtt": ["IncidentsTable", "Arn"]}
        # what the store (transactions are Put/Update/Delete) and Powertools idempotency call, no
        # more; notify_slack opens a thread only if its window is unchanged (a ConditionCheck)
        checks = {"dynamodb:ConditionCheckItem"} if name == "NotifySlack" else set()
        assert set(statement["Action"]) == {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:Query",
            *checks,
        }
        service = {"LogWindow": "log_window", "NotifySlack": "notify_slack"}[name]
        assert statement["Condition"] == {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SITE#*", f"IDEMPOTENCY#{service}"]}
        }
        env = transformed()["Resources"][f"{name}Function"]["Properties"]["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == service  # the idempotency prefix the role allows
    if "SlackSecret" in grants:
        assert granted["SlackSecret"] == ("secretsmanager:GetSecretValue", {"Ref": "SlackSecret"})
    # X-Ray permissions only when tracing is on
    assert statements_of(evaluate(EnableTracing="true").resource(f"{name}Role"))[-1]["Sid"] == "Tracing"


def test_notify_slack_gets_the_secret_by_reference_never_its_value(cfn: dict[str, Any]) -> None:
    env = cfn["Resources"]["NotifySlackFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLACK_SECRET_ARN"] == {"Ref": "SlackSecret"}
    assert env["PAGE_URL"] == {"Fn::Sub": "https://${Distribution.DomainName}/"}
    assert env["SLACK_MENTION"] == {"Ref": "SlackMention"}
    assert cfn["Resources"]["SlackSecret"]["Properties"]["SecretString"] == "{}"  # the operator fills it
    pattern = re.compile(source()["Parameters"]["SlackMention"]["AllowedPattern"])
    assert all(pattern.fullmatch(v) for v in ("", "here", "channel", "S0123ABCD"))
    assert not any(pattern.fullmatch(v) for v in ("@here", "<!channel>", "everyone"))


def test_functions_log_to_their_own_group_with_retention(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["LogWindowFunction"]["Properties"]
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "LogWindowLogGroup"}}
    assert cfn["Resources"]["LogWindowLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert function["Runtime"] == "python3.12"
    assert function["Layers"] == [{"Ref": next(k for k in resources_of(cfn, "AWS::Lambda::LayerVersion"))}]


def test_tracing_is_opt_in(cfn: dict[str, Any]) -> None:
    assert source()["Parameters"]["EnableTracing"]["Default"] == "false"
    function = cfn["Resources"]["LogWindowFunction"]["Properties"]
    assert function["TracingConfig"] == {"Mode": {"Fn::If": ["TracingEnabled", "Active", "PassThrough"]}}
    assert function["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingEnabled", "false", "true"]
    }


def test_outputs_name_everything_an_operator_looks_up() -> None:
    assert {
        "DistributionDomainName",
        "PageBucketName",
        "AlarmTopicArn",
        "HealthCheckId",
        "HealthAlarmName",
        "IncidentsTableName",
        "SlackSecretArn",
    } <= set(source()["Outputs"])
