"""template.yaml, the hub: the slash-command function's public URL, what its role may do (for every
registered site), and its limits."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.template import Evaluator, hub_parameters, source, transformed


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return transformed()


def of_type(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in cfn["Resources"].items() if v["Type"] == kind}


def test_the_url_is_public_and_invokes_only_through_the_url(cfn: dict[str, Any]) -> None:
    (url,) = of_type(cfn, "AWS::Lambda::Url").values()
    assert url["AuthType"] == "NONE"  # Slack cannot sign with SigV4: its signature is the gate
    assert url["TargetFunctionArn"] == {"Ref": "SlackCommandsFunction"}
    public = [p for p in of_type(cfn, "AWS::Lambda::Permission").values() if p["Principal"] == "*"]
    assert {p["Action"] for p in public} == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    assert all(p["FunctionName"] == {"Ref": "SlackCommandsFunction"} for p in public)
    # Since October 2025 a public URL needs both; InvokeFunction only through the URL, not the API
    (invoke,) = [p for p in public if p["Action"] == "lambda:InvokeFunction"]
    assert invoke["InvokedViaFunctionUrl"] is True
    assert source()["Outputs"]["SlackCommandsUrl"]["Value"] == {
        "Fn::GetAtt": ["SlackCommandsFunctionUrl", "FunctionUrl"]
    }


def test_reserved_concurrency_caps_a_flood_of_forged_requests(cfn: dict[str, Any]) -> None:
    function = cfn["Resources"]["SlackCommandsFunction"]["Properties"]
    assert 1 <= function["ReservedConcurrentExecutions"] <= 10
    assert function["Timeout"] <= 30


def test_the_signing_secret_is_read_from_the_secret_never_set_in_the_template(cfn: dict[str, Any]) -> None:
    env = cfn["Resources"]["SlackCommandsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SLACK_SECRET_ARN"] == {"Ref": "SlackSecret"}
    assert not any("SIGNING" in name or "TOKEN" in name for name in env)
    assert "signing" not in str(source()["Parameters"]).lower()


def statements(role: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (policy,) = role["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def test_the_role_may_do_exactly_what_the_commands_need() -> None:
    role = Evaluator(source(), hub_parameters()).resource("SlackCommandsRole")
    assert role is not None
    assert "ManagedPolicyArns" not in role
    granted = statements(role)
    assert set(granted) == {
        "OwnLogs",
        "SlackSecret",
        "IncidentsAndRequests",
        "SiteRegistry",
        "PlannedMaintenance",
        "PageAndThreadFollow",
        "DeadLetters",
    }
    table = granted["IncidentsAndRequests"]
    assert set(table["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"}
    assert table["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SITE#*", "SLACK#REQUESTS"]}}
    # which site a command is for comes from the registry (one site, or every site for /detour status)
    registry = granted["SiteRegistry"]
    assert set(registry["Action"]) == {"dynamodb:GetItem", "dynamodb:Query"}
    assert registry["Resource"] == {"Fn::GetAtt": ["IncidentsTable", "Arn"]}
    assert registry["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["SITES", "SITE_ALARMS"]}}
    # the health checks are the site stacks': the function only acts on registered sites
    maintenance = granted["PlannedMaintenance"]
    assert set(maintenance["Action"]) == {"route53:GetHealthCheck", "route53:UpdateHealthCheck"}
    assert maintenance["Resource"] == "arn:aws:route53:::healthcheck/*"
    follow = granted["PageAndThreadFollow"]
    assert follow["Action"] == "lambda:InvokeFunction"
    assert follow["Resource"] == [
        {"Fn::GetAtt": ["RefreshPageFunction", "Arn"]},
        {"Fn::GetAtt": ["NotifySlackFunction", "Arn"]},
    ]
    assert granted["SlackSecret"]["Resource"] == {"Ref": "SlackSecret"}


def test_it_may_queue_work_on_itself_and_nothing_else(cfn: dict[str, Any]) -> None:
    (own,) = [p for p in of_type(cfn, "AWS::IAM::RolePolicy").values() if p["RoleName"] == {"Ref": "SlackCommandsRole"}]
    (statement,) = own["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == (
        "lambda:InvokeFunction",
        {"Fn::GetAtt": ["SlackCommandsFunction", "Arn"]},
    )


def test_its_queued_work_fails_into_a_dead_letter_queue_that_alarms(cfn: dict[str, Any]) -> None:
    (config,) = [
        p
        for p in of_type(cfn, "AWS::Lambda::EventInvokeConfig").values()
        if p["FunctionName"] == {"Ref": "SlackCommandsFunction"}
    ]
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["SlackCommandsDeadLetterQueue", "Arn"]
    }
    assert config["MaximumEventAgeInSeconds"] <= 1800  # response_url expires after 30 minutes
    alarm = cfn["Resources"]["SlackCommandsDeadLetterAlarm"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "OperatorTopic"}]


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        ("SlackUpdaters", ["", "U0ALICE", "U0ALICE,W0BOB,S0ONCALL"], ["alice", "U0ALICE, S0X", "<@U0ALICE>", "C0CHAN"]),
        ("SlackCommandChannels", ["", "C0INCIDENT", "C0A,G0PRIVATE"], ["#incidents", "U0ALICE", "C0A,"]),
    ],
)
def test_the_allow_lists_take_slack_ids_only(parameter: str, good: list[str], bad: list[str]) -> None:
    pattern = re.compile(source()["Parameters"][parameter]["AllowedPattern"])
    assert all(pattern.fullmatch(value) for value in good)
    assert not any(pattern.fullmatch(value) for value in bad)


def test_it_is_told_no_site_only_its_neighbours_and_allow_lists(cfn: dict[str, Any]) -> None:
    env = cfn["Resources"]["SlackCommandsFunction"]["Properties"]["Environment"]["Variables"]
    assert not {"SITE_ID", "SITE_DOMAIN"} & set(env)  # the registry says which sites there are
    assert (env["REFRESH_PAGE_FUNCTION"], env["NOTIFY_SLACK_FUNCTION"]) == (
        {"Ref": "RefreshPageFunction"},
        {"Ref": "NotifySlackFunction"},
    )
    assert (env["SLACK_UPDATERS"], env["SLACK_COMMAND_CHANNELS"]) == (
        {"Ref": "SlackUpdaters"},
        {"Ref": "SlackCommandChannels"},
    )
