"""template.yaml, the hub: the SAM transform, its parameters, its security (bucket, topic, key), its
exports for the site stacks, and the alarm-driven functions that serve every site."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.template import Evaluator, arn_like, hub_parameters, source, transformed

PREFIX_FILTER = {"AlarmName": [{"prefix": {"Fn::Sub": "${AWS::StackName}/"}}]}
ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
EXPORTS = {
    "AlarmTopicArn": {"Ref": "AlarmTopic"},
    "SiteServiceToken": {"Fn::GetAtt": ["SiteSetupFunction", "Arn"]},
    "PageRequestFunctionArn": {"Fn::GetAtt": ["PageRequestFunction", "FunctionMetadata.FunctionARN"]},
    "PageResponseFunctionArn": {"Fn::GetAtt": ["PageResponseFunction", "FunctionMetadata.FunctionARN"]},
    "PageHeadersPolicyId": {"Ref": "PageHeadersPolicy"},
    "PageBucketDomainName": {"Fn::GetAtt": ["PageBucket", "RegionalDomainName"]},
}
# what the registry now holds: no function may be told a site in its environment
SITE_VARIABLES = {
    "SITE_ID",
    "SITE_DOMAIN",
    "SITE_NAME",
    "PAGE_URL",
    "SLACK_MENTION",
    "CONTACT_URL",
    "DEFAULT_MESSAGE",
    "DISTRIBUTION_ID",
    "ALARM_NAMES",
}
GLOBAL_VARIABLES = {
    "TABLE_NAME",
    "ALARM_PREFIX",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_SERVICE_NAME",
}
ENVIRONMENTS = {
    "LogWindowFunction": set(),
    "ErrorRateFunction": set(),
    "NotifySlackFunction": {"SLACK_SECRET_ARN"},
    "RefreshPageFunction": {"PAGE_BUCKET"},
    "SiteSetupFunction": {"PAGE_BUCKET"},
    "SlackCommandsFunction": {
        "SLACK_SECRET_ARN",
        "SLACK_UPDATERS",
        "SLACK_COMMAND_CHANNELS",
        "REFRESH_PAGE_FUNCTION",
        "NOTIFY_SLACK_FUNCTION",
    },
}


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def resources_of(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == kind}


def evaluate(stack_name: str = "detour", **parameters: str) -> Any:
    return Evaluator(source(), hub_parameters(**parameters), stack_name=stack_name)


# ---------------------------------------------------------------- parameters and rules


def test_the_hub_takes_only_hub_wide_parameters_each_described_and_grouped_once() -> None:
    template = source()
    assert set(template["Parameters"]) == {
        "SlackUpdaters",
        "SlackCommandChannels",
        "OperatorEmail",
        "LogRetentionDays",
        "LogLevel",
        "EnableTracing",
    }
    assert all(p.get("Description") for p in template["Parameters"].values())
    assert all("Default" in p for p in template["Parameters"].values())  # a first deploy needs no answers
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])


def test_the_operator_email_pattern() -> None:
    pattern = re.compile(source()["Parameters"]["OperatorEmail"]["AllowedPattern"])
    assert all(pattern.fullmatch(v) for v in ("", "oncall@example.com"))
    assert not any(pattern.fullmatch(v) for v in ("oncall", "a@b"))


def test_the_hub_deploys_only_in_us_east_1() -> None:
    assert evaluate().failed_rules() == []
    (failure,) = Evaluator(source(), hub_parameters(), "eu-west-1").failed_rules()
    assert "Detour must be deployed in us-east-1" in failure


def test_the_hub_holds_no_site() -> None:
    kinds = {r["Type"] for r in source()["Resources"].values()}
    assert not kinds & {
        "AWS::Route53::HealthCheck",
        "AWS::Route53::RecordSet",
        "AWS::CloudFront::Distribution",
        "AWS::CloudFront::OriginAccessControl",
    }
    alarms = [r["Properties"] for r in source()["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms
    assert all(a["Namespace"] == "AWS/SQS" for a in alarms)  # its own dead letters only


# ---------------------------------------------------------------- exports for the sites


def test_the_hub_exports_exactly_what_a_site_imports_under_its_stack_name() -> None:
    outputs = source()["Outputs"]
    exported = {key: output for key, output in outputs.items() if "Export" in output}
    assert {key: output["Value"] for key, output in exported.items()} == EXPORTS
    for key, output in exported.items():
        assert output["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{key}"}
    # the export names of two hubs never collide
    assert (
        evaluate("detour-staging").value(outputs["AlarmTopicArn"]["Export"]["Name"]) == "detour-staging-AlarmTopicArn"
    )


def test_exported_values_never_depend_on_a_parameter() -> None:
    """An export cannot change while a site imports it: a hub parameter must never move one."""
    for key in EXPORTS:
        value = str(source()["Outputs"][key]["Value"])
        assert not any(parameter in value for parameter in source()["Parameters"]), key
        assert "Fn::If" not in value


def test_outputs_name_everything_an_operator_and_the_cli_look_up() -> None:
    assert {
        "SlackCommandsUrl",
        "PageBucketName",
        "OperatorTopicArn",
        "IncidentsTableName",
        "SlackSecretArn",
        "LogWindowDeadLetterQueueUrl",
        "NotifySlackDeadLetterQueueUrl",
        "RefreshPageDeadLetterQueueUrl",
        "SlackCommandsDeadLetterQueueUrl",
        "ErrorRateDeadLetterQueueUrl",
        "RefreshPageFunctionName",
        "NotifySlackFunctionName",
        "SiteTemplateVersion",
    } <= set(source()["Outputs"])
    assert source()["Outputs"]["SiteTemplateVersion"]["Value"] == "2"


# ---------------------------------------------------------------- page bucket


def test_the_page_bucket_is_private_encrypted_versioned_and_tls_only(cfn: dict[str, Any]) -> None:
    bucket = cfn["Resources"]["PageBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    statements = cfn["Resources"]["PageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_only_this_accounts_distributions_read_and_only_the_sites_pages(cfn: dict[str, Any]) -> None:
    statements = cfn["Resources"]["PageBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert allow["Resource"] == {"Fn::Sub": "${PageBucket.Arn}/sites/*"}
    assert allow["Condition"] == {
        "ArnLike": {"AWS:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*"}}
    }
    pattern = evaluate().value(allow["Condition"]["ArnLike"]["AWS:SourceArn"])
    assert arn_like(pattern, "arn:aws:cloudfront::123456789012:distribution/E2SHOP")
    assert not arn_like(pattern, "arn:aws:cloudfront::210987654321:distribution/E2SHOP")  # another account's


# ---------------------------------------------------------------- alarm topic and key


def test_only_this_hubs_site_alarms_may_publish_over_tls_to_an_encrypted_topic(cfn: dict[str, Any]) -> None:
    assert cfn["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "TopicKey"}
    statements = cfn["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::Sub": ALARM_ARN + "${AWS::StackName}/*"}},
    }
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_the_alarm_topic_denies_every_publisher_but_cloudwatch(cfn: dict[str, Any]) -> None:
    """Closes the forged-alarm gap: no IAM principal of the account, whatever its own policy says, may
    publish. aws:PrincipalIsAWSService is in every signed request (false for users and roles), so the
    Deny never depends on a key that might be missing; services are admitted by the Allow alone,
    which names CloudWatch and this hub's site alarms."""
    statements = cfn["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny" and "aws:PrincipalIsAWSService" in str(s)]
    assert deny["Principal"] == "*"
    assert deny["Action"] == "sns:Publish"
    assert deny["Resource"] == {"Ref": "AlarmTopic"}
    assert deny["Condition"] == {"Bool": {"aws:PrincipalIsAWSService": "false"}}
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}


def test_the_topic_key_admits_this_hubs_site_alarms_and_its_own_dead_letter_alarms(cfn: dict[str, Any]) -> None:
    key = cfn["Resources"]["TopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    grants = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(grants) == 2  # conditions in one statement must all hold: the two kinds need two statements
    for grant in grants:
        assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
        assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    (sites,) = [g for g in grants if "ArnLike" in g["Condition"]]
    assert sites["Condition"]["ArnLike"] == {"aws:SourceArn": {"Fn::Sub": ALARM_ARN + "${AWS::StackName}/*"}}
    (dead_letters,) = [g for g in grants if "ArnEquals" in g["Condition"]]
    alarms = {r["Properties"]["AlarmName"]["Fn::Sub"] for r in resources_of(cfn, "AWS::CloudWatch::Alarm").values()}
    assert {
        arn["Fn::Sub"].removeprefix(ALARM_ARN) for arn in dead_letters["Condition"]["ArnEquals"]["aws:SourceArn"]
    } == alarms
    assert len(alarms) == 5


def test_the_operator_topic_admits_exactly_this_stacks_dead_letter_alarms(cfn: dict[str, Any]) -> None:
    """Named one by one: `alarm:<stack>-*` would also admit the alarms of a stack named <stack>-staging."""
    alarms = {
        r["Properties"]["AlarmName"]["Fn::Sub"]: r["Properties"]
        for r in resources_of(cfn, "AWS::CloudWatch::Alarm").values()
    }
    operator = cfn["Resources"]["OperatorTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in operator if s["Effect"] == "Allow"]
    assert "ArnLike" not in allow["Condition"]
    to_operator = {name for name, props in alarms.items() if {"Ref": "OperatorTopic"} in props.get("AlarmActions", [])}
    assert {
        arn["Fn::Sub"].removeprefix(ALARM_ARN) for arn in allow["Condition"]["ArnEquals"]["aws:SourceArn"]
    } == to_operator
    assert to_operator == set(alarms)


def test_the_dead_letter_alarms_are_no_site_alarms(cfn: dict[str, Any]) -> None:
    """They go to the operator topic; were they named <hub>/..., the site subscriptions would take them."""
    resolver = evaluate()
    site_pattern = resolver.value({"Fn::Sub": ALARM_ARN + "${AWS::StackName}/*"})
    for alarm in resources_of(cfn, "AWS::CloudWatch::Alarm").values():
        name = resolver.value(alarm["Properties"]["AlarmName"])
        assert re.fullmatch(r"detour-[a-z-]+-dead-letters", name)
        assert not arn_like(site_pattern, f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")


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


# ---------------------------------------------------------------- every function's environment


def test_the_functions_are_told_no_site_only_where_the_registry_is(cfn: dict[str, Any]) -> None:
    functions = resources_of(cfn, "AWS::Lambda::Function")
    assert set(functions) == set(ENVIRONMENTS)
    for name, function in functions.items():
        env = function["Properties"]["Environment"]["Variables"]
        assert set(env) == GLOBAL_VARIABLES | ENVIRONMENTS[name], name
        assert not set(env) & SITE_VARIABLES, name
        assert env["TABLE_NAME"] == {"Ref": "IncidentsTable"}
        assert env["ALARM_PREFIX"] == {"Fn::Sub": "${AWS::StackName}/"}  # <hub>/<site stack>/primary-health


# ---------------------------------------------------------------- the alarm-driven functions

# what tells which of a site's failover signals failed (ADR 0002): every alarm-driven function reads it
SIGNAL_READS = {"SignalHealthChecks", "SignalAlarms"}
# function -> the statements its role may have, beyond its own logs and dead letters
FUNCTION_GRANTS = {
    "LogWindow": {"IncidentsAndIdempotency", "SiteRegistry", *SIGNAL_READS},
    "NotifySlack": {"IncidentsAndIdempotency", "SiteRegistry", "SlackSecret", *SIGNAL_READS},
}


@pytest.mark.parametrize("name", [*FUNCTION_GRANTS, "RefreshPage"])
def test_each_function_subscribes_with_a_body_filter_for_this_hubs_site_alarms(cfn: dict[str, Any], name: str) -> None:
    (props,) = [
        r["Properties"]
        for r in resources_of(cfn, "AWS::SNS::Subscription").values()
        if r["Properties"].get("Endpoint") == {"Fn::GetAtt": [f"{name}Function", "Arn"]}
    ]
    assert props["Protocol"] == "lambda"
    assert props["TopicArn"] == {"Ref": "AlarmTopic"}
    assert props["FilterPolicyScope"] == "MessageBody"
    assert props["FilterPolicy"] == PREFIX_FILTER
    assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [f"{name}DeadLetterQueue", "Arn"]}}


def test_the_filter_prefix_is_what_site_alarm_names_start_with_and_nothing_else() -> None:
    prefix = evaluate().value(PREFIX_FILTER["AlarmName"][0]["prefix"])
    assert prefix == "detour/"
    assert "detour/detour-site-shop/primary-health".startswith(prefix)
    assert not "detour-staging/detour-site-shop/primary-health".startswith(prefix)
    assert not "detour-refresh-page-dead-letters".startswith(prefix)


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
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


REGISTRY_CONDITION = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["SITES", "SITE_ALARMS"]}}


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
    # the registry: read one site, nothing else of it (sites are written by site_setup alone)
    (registry,) = [s for s in statements_of(role) if s["Sid"] == "SiteRegistry"]
    assert (registry["Action"], registry["Resource"]) == ("dynamodb:GetItem", {"Fn::GetAtt": ["IncidentsTable", "Arn"]})
    assert registry["Condition"] == REGISTRY_CONDITION
    if "SlackSecret" in grants:
        assert granted["SlackSecret"] == ("secretsmanager:GetSecretValue", {"Ref": "SlackSecret"})
    # X-Ray permissions only when tracing is on
    assert statements_of(evaluate(EnableTracing="true").resource(f"{name}Role"))[-1]["Sid"] == "Tracing"


def string_like(pattern: str, value: str) -> bool:
    return (
        re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), value)
        is not None
    )


def test_only_the_site_registry_statements_reach_the_registry() -> None:
    """The incident statements' SITE#* must not reach the registry's partitions (SITES, SITE_ALARMS), or every function
    could write the sites: the registry has statements of its own, and only site_setup's writes."""
    writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    roles = [k for k, v in source()["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 6
    for role in roles:
        for statement in statements_of(evaluate().resource(role)):
            condition = statement.get("Condition", {})
            keys = [*condition.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys", [])]
            keys += condition.get("ForAllValues:StringEquals", {}).get("dynamodb:LeadingKeys", [])
            if statement["Sid"] == "SiteRegistry":
                assert condition == REGISTRY_CONDITION, role
                actions = {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
                assert role == "SiteSetupRole" or not actions & writes, role
            elif statement.get("Resource") == {"Fn::GetAtt": ["IncidentsTable", "Arn"]}:
                assert keys, f"{role} {statement['Sid']}: a table statement without LeadingKeys"
                for registry_key in ("SITES", "SITE_ALARMS"):
                    assert not any(string_like(k, registry_key) for k in keys), f"{role} {statement['Sid']}"


@pytest.mark.parametrize("name", [*FUNCTION_GRANTS, "RefreshPage"])
def test_each_alarm_function_may_read_the_signals_state_and_change_nothing_of_them(name: str) -> None:
    """GetHealthCheckStatus (how many checkers see the endpoint fail) on any health check and
    DescribeAlarms on this account's alarms in the hub's region: read-only, and a site's checks and
    alarms are its own stack's, which IAM cannot name in advance (the registry says which)."""
    statements = {s["Sid"]: s for s in statements_of(evaluate().resource(f"{name}Role"))}
    checks, alarms = statements["SignalHealthChecks"], statements["SignalAlarms"]
    assert (checks["Effect"], checks["Action"], checks["Resource"]) == (
        "Allow",
        "route53:GetHealthCheckStatus",
        "arn:aws:route53:::healthcheck/*",
    )
    assert (alarms["Effect"], alarms["Action"], alarms["Resource"]) == (
        "Allow",
        "cloudwatch:DescribeAlarms",
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*",
    )
    assert "Condition" not in checks
    assert "Condition" not in alarms


def test_notify_slack_gets_the_secret_by_reference_never_its_value(cfn: dict[str, Any]) -> None:
    env = cfn["Resources"]["NotifySlackFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLACK_SECRET_ARN"] == {"Ref": "SlackSecret"}
    assert cfn["Resources"]["SlackSecret"]["Properties"]["SecretString"] == "{}"  # the operator fills it


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
