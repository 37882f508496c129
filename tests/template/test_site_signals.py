"""sites/site.yaml's failover signals (docs/adr/0002-failover-signals.md): the alarm-backed checks, the
5xx-rate alarm, the calculated FailoverCheck with SignalsToFailOver turned into its HealthThreshold, what the
failover records and HealthAlarm watch, the Rules that refuse what cannot work, and what the Site custom
resource is told. The defaults must give today's site exactly."""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator

import pytest

from detour_cli.template import Resolver
from tests.support.template import HUB_EXPORTS, ROOT, Evaluator, site_parameters, site_source

SITE_STACK = "detour-site-shop"
ALARMS = ("shop-5xx", "shop-latency", "shop-queue")
SLOTS = ("Signal1Check", "Signal2Check", "Signal3Check")
ERROR_RATE = {
    "ErrorRateSignal": "On",
    "ErrorRateTargetGroup": "targetgroup/shop-web/0123456789abcdef",
    "ErrorRateLoadBalancer": "app/shop-alb/fedcba9876543210",
}
NEW_PARAMETERS = (
    "SignalAlarm1",
    "SignalAlarm2",
    "SignalAlarm3",
    "ErrorRateSignal",
    "ErrorRateTargetGroup",
    "ErrorRateLoadBalancer",
    "ErrorRatePercent",
    "ErrorRateMinutes",
    "ErrorRateMinRequests",
    "SignalsToFailOver",
    "SignalInsufficientData",
)
SIGNAL_RESOURCES = (*SLOTS, "ErrorRateAlarm", "ErrorRateCheck", "FailoverCheck")
# Physical ids of the checks once deployed (Ref of an AWS::Route53::HealthCheck is its id).
CHECK_IDS = {
    "HealthCheck": "hc-endpoint",
    "Signal1Check": "hc-signal-1",
    "Signal2Check": "hc-signal-2",
    "Signal3Check": "hc-signal-3",
    "ErrorRateCheck": "hc-error-rate",
    "FailoverCheck": "hc-failover",
}
ERROR_RATE_ALARM = f"detour/{SITE_STACK}/error-rate"


def signals(alarms: int = 0, error_rate: bool = False, **parameters: str) -> dict[str, str]:
    """Parameters for a load-balancer site with the first `alarms` slots used, and the error rate if asked."""
    slots = {f"SignalAlarm{n + 1}": ALARMS[n] for n in range(alarms)}
    return slots | (ERROR_RATE if error_rate else {}) | parameters


def evaluate(**parameters: str) -> Resolver:
    return Evaluator(site_source(), site_parameters(**parameters), stack_name=SITE_STACK, imports=HUB_EXPORTS)


def deployed(**parameters: str) -> Resolver:
    """The site as deployed: every health check it makes has its id, the distribution and 5xx alarm exist."""
    stack = evaluate(**parameters)
    for logical_id, physical in CHECK_IDS.items():
        if stack.included(logical_id):
            stack.know(logical_id, physical)
    if stack.included("ErrorRateAlarm"):
        stack.know("ErrorRateAlarm", ERROR_RATE_ALARM)
    stack.know("Distribution", "E2SHOP", DomainName="d111111abcdef8.cloudfront.net")
    return stack


def failover_config(stack: Resolver) -> dict[str, object]:
    check = stack.resource("FailoverCheck")
    assert check is not None
    config: dict[str, object] = check["HealthCheckConfig"]
    return config


def combinations() -> list[tuple[int, bool, int]]:
    """Every (alarm slots used, error rate, SignalsToFailOver) the template can be given with any signal."""
    return [
        (alarms, error_rate, wanted)
        for alarms, error_rate in itertools.product(range(4), (False, True))
        if alarms or error_rate
        for wanted in range(1, 6)
    ]


# ---------------------------------------------------------------- parameters


def test_every_signal_parameter_is_optional_described_and_in_its_group() -> None:
    template = site_source()
    parameters = template["Parameters"]
    assert all("Default" in parameters[name] and parameters[name]["Description"] for name in NEW_PARAMETERS)
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    (group,) = [g for g in groups if g["Label"]["default"] == "Failover signals"]
    assert tuple(group["Parameters"]) == NEW_PARAMETERS
    assert [str(v) for v in parameters["SignalsToFailOver"]["AllowedValues"]] == ["1", "2", "3", "4", "5"]
    assert parameters["SignalInsufficientData"]["AllowedValues"] == ["LastKnownStatus", "Healthy", "Unhealthy"]
    # quoted in YAML: an unquoted On/Off would be read as a boolean
    assert parameters["ErrorRateSignal"]["AllowedValues"] == ["Off", "On"]
    assert parameters["ErrorRateSignal"]["Default"] == "Off"
    assert {name: parameters[name]["Default"] for name in ("ErrorRatePercent", "ErrorRateMinutes")} == {
        "ErrorRatePercent": 5,
        "ErrorRateMinutes": 3,
    }
    assert parameters["ErrorRateMinRequests"]["Default"] == 20


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        (
            "SignalAlarm1",
            ["", "shop-5xx", "TargetTracking-table/shop-AlarmHigh-0a1b", "Shop 5xx (web)", "x" * 255],
            ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:shop-5xx", "x" * 256, "shop\n5xx", "tab\there"],
        ),
        (
            "ErrorRateTargetGroup",
            ["", "targetgroup/shop-web/0123456789abcdef"],
            [
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-web/0123456789abcdef",
                "targetgroup/shop-web",
                "shop-web",
                "targetgroup/shop_web/0123456789abcdef",
            ],
        ),
        (
            "ErrorRateLoadBalancer",
            ["", "app/shop-alb/0123456789abcdef"],
            ["net/shop-nlb/0123456789abcdef", "loadbalancer/app/shop-alb/0123456789abcdef", "app/shop-alb"],
        ),
    ],
)
def test_signal_parameter_patterns_accept_and_reject(parameter: str, good: list[str], bad: list[str]) -> None:
    pattern = re.compile(site_source()["Parameters"][parameter]["AllowedPattern"])
    assert all(pattern.fullmatch(value) for value in good)
    assert not any(pattern.fullmatch(value) for value in bad)
    for slot in ("SignalAlarm2", "SignalAlarm3"):
        assert (
            site_source()["Parameters"][slot]["AllowedPattern"]
            == site_source()["Parameters"]["SignalAlarm1"]["AllowedPattern"]
        )


# ---------------------------------------------------------------- the defaults: today's site


def test_without_signals_there_is_no_calculated_check_and_everything_watches_the_endpoint_check() -> None:
    stack = deployed(DualStack="true")
    assert stack.failed_rules() == []
    assert all(stack.resource(name) is None for name in SIGNAL_RESOURCES)
    for record in ("PrimaryRecordA", "PrimaryRecordAAAA"):
        assert stack.resource(record)["HealthCheckId"] == "hc-endpoint"  # type: ignore[index]
    alarm = stack.resource("HealthAlarm")
    assert alarm is not None
    assert alarm["Dimensions"] == [{"Name": "HealthCheckId", "Value": "hc-endpoint"}]
    assert alarm["AlarmDescription"].startswith("Detour: the primary behind www.example.com is failing")
    site = stack.resource("Site")
    assert site is not None
    assert (site["EndpointCheckId"], site["FailoverCheckId"]) == ("hc-endpoint", "hc-endpoint")
    assert (site["Signals"], site["SignalsToFailOver"], site["SignalInsufficientData"]) == (
        [],
        "1",
        "LastKnownStatus",
    )
    assert "ErrorRate" not in site
    outputs = site_source()["Outputs"]
    assert stack.value(outputs["FailoverCheckId"]["Value"]) == stack.value(outputs["HealthCheckId"]["Value"])


def test_the_defaults_make_the_same_resources_as_before_signals() -> None:
    stack = evaluate()
    made = {name for name in site_source()["Resources"] if stack.included(name)}
    assert made == {
        "HealthCheck",
        "PrimaryRecordA",
        "SecondaryRecordA",
        "OriginAccessControl",
        "Distribution",
        "Site",
        "HealthAlarm",
    }


# ---------------------------------------------------------------- FailoverCheck: SignalsToFailOver of M


@pytest.mark.parametrize(("alarms", "error_rate", "wanted"), combinations())
def test_signals_to_fail_over_is_the_calculated_checks_threshold_or_refused(
    alarms: int, error_rate: bool, wanted: int
) -> None:
    """Every combination: the children are the endpoint check, the used slots in order and the 5xx check;
    the threshold is children - SignalsToFailOver + 1; a SignalsToFailOver above the number of checks is
    refused by its rule (and only by it)."""
    stack = deployed(**signals(alarms, error_rate, SignalsToFailOver=str(wanted)))
    children = ["hc-endpoint", *[f"hc-signal-{n + 1}" for n in range(alarms)], *(["hc-error-rate"] * error_rate)]
    failures = stack.failed_rules()
    if wanted > len(children):
        assert failures == [failures[0]]
        assert failures[0].startswith(f"SignalsToFailOver {wanted} needs")
        return
    assert failures == []
    config = failover_config(stack)
    assert config["Type"] == "CALCULATED"
    assert config["ChildHealthChecks"] == children
    assert config["HealthThreshold"] == len(children) - wanted + 1


@pytest.mark.parametrize(("alarms", "error_rate", "wanted"), [c for c in combinations() if c[2] <= c[0] + c[1] + 1])
def test_the_site_fails_over_exactly_when_signals_to_fail_over_checks_fail(
    alarms: int, error_rate: bool, wanted: int
) -> None:
    """Route 53's rule for a calculated check (healthy while at least HealthThreshold children are) played over
    every set of failing children: 1 is "any check fails", M of M is "all of them"."""
    config = failover_config(deployed(**signals(alarms, error_rate, SignalsToFailOver=str(wanted))))
    children = list(config["ChildHealthChecks"])  # type: ignore[call-overload]
    threshold = int(config["HealthThreshold"])  # type: ignore[call-overload]
    for failing in range(len(children) + 1):
        for down in itertools.combinations(children, failing):
            healthy = len(children) - len(down) >= threshold
            assert healthy == (len(down) < wanted), (down, threshold)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (signals(1), 2),  # any of 2: the endpoint probe alone still fails over
        (signals(0, error_rate=True), 2),
        (signals(3, error_rate=True), 5),  # any of 5
        (signals(1, SignalsToFailOver="2"), 1),  # both of 2
        (signals(2, SignalsToFailOver="2"), 2),  # 2 of 3
        (signals(2, error_rate=True, SignalsToFailOver="3"), 2),  # 3 of 4
        (signals(3, SignalsToFailOver="4"), 1),  # all 4
        (signals(3, error_rate=True, SignalsToFailOver="5"), 1),  # all 5
    ],
)
def test_thresholds_for_the_usual_choices(parameters: dict[str, str], expected: int) -> None:
    assert failover_config(deployed(**parameters))["HealthThreshold"] == expected


def test_the_mapping_is_children_minus_signals_to_fail_over_plus_one_and_never_below_1() -> None:
    """Every cell is filled, the ones the Rules refuse too (N above the number of children): CloudFormation
    resolves the Fn::FindInMap of every Fn::If branch, taken or not, and fails the deploy on a missing key. Those
    cells hold 1 (all children must be healthy), safe if one were ever used: never 0, which is "always healthy"."""
    mapping = site_source()["Mappings"]["HealthThresholds"]
    assert set(mapping) == {"Checks2", "Checks3", "Checks4", "Checks5"}
    for row, thresholds in mapping.items():
        children = int(row.removeprefix("Checks"))
        assert thresholds == {str(n): max(children - n + 1, 1) for n in range(1, 6)}
        assert all(1 <= threshold <= children for threshold in thresholds.values())


def find_in_map_lookups(node: object, parameters: dict[str, dict[str, object]]) -> Iterator[tuple[str, str, str]]:
    """Every (map, top-level key, second-level key) a Fn::FindInMap in `node` could look up, in every Fn::If
    branch (all of them are walked): a key given as a Ref to a parameter is each of its AllowedValues."""

    def keys(argument: object) -> list[str]:
        if isinstance(argument, dict) and set(argument) == {"Ref"}:
            allowed = parameters[str(argument["Ref"])]["AllowedValues"]
            assert isinstance(allowed, list), argument
            return [str(value) for value in allowed]
        assert isinstance(argument, str), f"a lookup key the test cannot enumerate: {argument!r}"
        return [argument]

    if isinstance(node, dict):
        for name, value in node.items():
            if name == "Fn::FindInMap":
                mapping, top, second = value
                yield from itertools.product(keys(mapping), keys(top), keys(second))
            else:
                yield from find_in_map_lookups(value, parameters)
    elif isinstance(node, list):
        for item in node:
            yield from find_in_map_lookups(item, parameters)


def test_every_lookup_any_branch_of_the_threshold_could_make_is_in_the_mapping() -> None:
    """CloudFormation fails the deploy ("Unable to get mapping for ...") when a Fn::FindInMap in an Fn::If branch
    that is not taken names a missing key (aws-cloudformation-templates issue #271); the Resolver of these tests
    takes only the chosen branch, so it cannot see that: every branch's lookups are checked here."""
    template = site_source()
    threshold = template["Resources"]["FailoverCheck"]["Properties"]["HealthCheckConfig"]["HealthThreshold"]
    lookups = set(find_in_map_lookups(threshold, template["Parameters"]))
    # the chain's four branches (2 to 5 children), each by every SignalsToFailOver the parameter allows
    assert lookups == {
        ("HealthThresholds", f"Checks{children}", wanted)
        for children in range(2, 6)
        for wanted in ("1", "2", "3", "4", "5")
    }
    for mapping, top, second in find_in_map_lookups(template, template["Parameters"]):  # the whole template
        assert second in template["Mappings"][mapping].get(top, {}), (mapping, top, second)


# ---------------------------------------------------------------- what watches FailoverCheck


def test_with_signals_the_records_the_alarm_and_the_registration_watch_the_failover_check() -> None:
    stack = deployed(**signals(1, DualStack="true", SignalsToFailOver="2"))
    for record in ("PrimaryRecordA", "PrimaryRecordAAAA"):
        assert stack.resource(record)["HealthCheckId"] == "hc-failover"  # type: ignore[index]
    for record in ("SecondaryRecordA", "SecondaryRecordAAAA"):
        assert "HealthCheckId" not in stack.resource(record)  # type: ignore[operator]
    alarm = stack.resource("HealthAlarm")
    assert alarm is not None
    assert alarm["Dimensions"] == [{"Name": "HealthCheckId", "Value": "hc-failover"}]
    assert alarm["AlarmDescription"].startswith("Detour: 2 or more of www.example.com's checks")
    site = stack.resource("Site")
    assert site is not None
    assert (site["EndpointCheckId"], site["FailoverCheckId"]) == ("hc-endpoint", "hc-failover")
    assert stack.value(site_source()["Outputs"]["FailoverCheckId"]["Value"]) == "hc-failover"
    # the page stays under the endpoint check's prefix: the site's id does not move with its signals
    distribution = stack.resource("Distribution")["DistributionConfig"]  # type: ignore[index]
    assert distribution["Origins"][0]["OriginPath"] == "/sites/hc-endpoint"


def test_the_alarm_backed_checks_follow_their_alarms_in_us_east_1() -> None:
    stack = deployed(**signals(3, error_rate=True, SignalInsufficientData="Unhealthy"))
    configs = {name: stack.resource(name)["HealthCheckConfig"] for name in (*SLOTS, "ErrorRateCheck")}  # type: ignore[index]
    assert configs == {
        **{
            slot: {
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Name": alarm, "Region": "us-east-1"},
                "InsufficientDataHealthStatus": "Unhealthy",
            }
            for slot, alarm in zip(SLOTS, ALARMS, strict=True)
        },
        "ErrorRateCheck": {
            "Type": "CLOUDWATCH_METRIC",
            "AlarmIdentifier": {"Name": ERROR_RATE_ALARM, "Region": "us-east-1"},
            "InsufficientDataHealthStatus": "Unhealthy",
        },
    }
    # created after its alarm: the check names the alarm through its Ref
    assert "ErrorRateAlarm" in stack.references(site_source()["Resources"]["ErrorRateCheck"])
    assert evaluate(**signals(1)).resource("Signal1Check")["HealthCheckConfig"]["InsufficientDataHealthStatus"] == (  # type: ignore[index]
        "LastKnownStatus"
    )


@pytest.mark.parametrize(("alarms", "made"), [(1, SLOTS[:1]), (2, SLOTS[:2]), (3, SLOTS)])
def test_one_alarm_backed_check_per_used_slot(alarms: int, made: tuple[str, ...]) -> None:
    stack = evaluate(**signals(alarms))
    assert [slot for slot in SLOTS if stack.included(slot)] == list(made)
    assert not stack.included("ErrorRateAlarm")
    assert not stack.included("ErrorRateCheck")


# ---------------------------------------------------------------- the 5xx-rate alarm


def test_the_error_rate_alarm_watches_detours_own_metric_and_acts_on_nothing() -> None:
    stack = deployed(**signals(0, error_rate=True, ErrorRatePercent="7", ErrorRateMinutes="4"))
    alarm = stack.resource("ErrorRateAlarm")
    assert alarm is not None
    described = alarm.pop("AlarmDescription")
    assert "above 7 % for 4 minutes" in described
    assert alarm == {
        "AlarmName": ERROR_RATE_ALARM,
        "Namespace": "Detour",
        "MetricName": "TargetErrorRate",
        "Dimensions": [{"Name": "Site", "Value": SITE_STACK}],
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": "4",
        "DatapointsToAlarm": "4",
        "Threshold": "7",
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
    }
    # no AlarmActions / OKActions / InsufficientDataActions: the check follows it, HealthAlarm reports the failover


# ---------------------------------------------------------------- the Site custom resource


def test_the_site_is_told_every_signal_in_order_and_the_error_rate_settings() -> None:
    stack = deployed(
        **signals(
            2,
            error_rate=True,
            ErrorRatePercent="10",
            ErrorRateMinutes="2",
            ErrorRateMinRequests="50",
            SignalsToFailOver="2",
            SignalInsufficientData="Healthy",
        )
    )
    site = stack.resource("Site")
    assert site is not None
    assert site["Signals"] == [
        {"Name": "shop-5xx", "Kind": "alarm", "AlarmName": "shop-5xx", "HealthCheckId": "hc-signal-1"},
        {"Name": "shop-latency", "Kind": "alarm", "AlarmName": "shop-latency", "HealthCheckId": "hc-signal-2"},
        {"Name": "5xx rate", "Kind": "error-rate", "AlarmName": ERROR_RATE_ALARM, "HealthCheckId": "hc-error-rate"},
    ]
    assert (site["SignalsToFailOver"], site["SignalInsufficientData"]) == ("2", "Healthy")
    assert site["ErrorRate"] == {
        "TargetGroup": "targetgroup/shop-web/0123456789abcdef",
        "LoadBalancer": "app/shop-alb/fedcba9876543210",
        "ThresholdPercent": "10",
        "Minutes": "2",
        "MinRequests": "50",
    }
    assert site["SiteTemplateVersion"] == "2"
    assert "SiteId" not in site  # EndpointCheckId replaces it (site_setup still reads SiteId from older stacks)


def test_alarm_signals_alone_send_no_error_rate() -> None:
    site = deployed(**signals(1)).resource("Site")
    assert site is not None
    assert site["Signals"] == [
        {"Name": "shop-5xx", "Kind": "alarm", "AlarmName": "shop-5xx", "HealthCheckId": "hc-signal-1"}
    ]
    assert "ErrorRate" not in site


def test_the_error_rate_alone_is_one_signal() -> None:
    site = deployed(**signals(0, error_rate=True)).resource("Site")
    assert site is not None
    assert [s["Kind"] for s in site["Signals"]] == ["error-rate"]
    assert "ErrorRate" in site


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"SignalAlarm2": "shop-latency"}, "SignalAlarm2 needs SignalAlarm1"),
        ({"SignalAlarm1": "shop-5xx", "SignalAlarm3": "shop-queue"}, "SignalAlarm3 needs SignalAlarm2"),
        ({"SignalAlarm1": "shop-5xx", "SignalAlarm2": "shop-5xx"}, "SignalAlarm2 names the same alarm"),
        (
            {"SignalAlarm1": "a", "SignalAlarm2": "b", "SignalAlarm3": "a"},
            "SignalAlarm3 names the same alarm as SignalAlarm1 or SignalAlarm2",
        ),
        (
            {"ErrorRateSignal": "On", "ErrorRateLoadBalancer": ERROR_RATE["ErrorRateLoadBalancer"]},
            "ErrorRateSignal On needs ErrorRateTargetGroup",
        ),
        (
            {"ErrorRateSignal": "On", "ErrorRateTargetGroup": ERROR_RATE["ErrorRateTargetGroup"]},
            "ErrorRateSignal On needs ErrorRateLoadBalancer",
        ),
        (
            ERROR_RATE | {"PrimaryKind": "IPv4", "PrimaryTarget": "203.0.113.10", "PrimaryHostedZoneId": ""},
            "ErrorRateSignal On needs PrimaryKind LoadBalancer",
        ),
        ({"SignalsToFailOver": "2"}, "SignalsToFailOver 2 needs at least 2 checks"),
        (signals(1, SignalsToFailOver="3"), "SignalsToFailOver 3 needs at least 3 checks"),
        (signals(0, error_rate=True, SignalsToFailOver="3"), "SignalsToFailOver 3 needs at least 3 checks"),
        (signals(2, SignalsToFailOver="4"), "SignalsToFailOver 4 needs at least 4 checks"),
        (signals(1, error_rate=True, SignalsToFailOver="4"), "SignalsToFailOver 4 needs at least 4 checks"),
        (signals(3, SignalsToFailOver="5"), "SignalsToFailOver 5 needs all 5 checks"),
        (signals(2, error_rate=True, SignalsToFailOver="5"), "SignalsToFailOver 5 needs all 5 checks"),
    ],
)
def test_rules_refuse_signals_that_cannot_work(parameters: dict[str, str], message: str) -> None:
    failures = evaluate(**parameters).failed_rules()
    assert len(failures) == 1, failures
    assert message in failures[0]


@pytest.mark.parametrize(
    "parameters",
    [
        signals(1),
        signals(3, error_rate=True, SignalsToFailOver="5"),
        signals(0, error_rate=True, SignalsToFailOver="2"),
        # the 5xx settings are ignored (and not checked) while the signal is off
        {"ErrorRateTargetGroup": ERROR_RATE["ErrorRateTargetGroup"], "ErrorRateSignal": "Off"},
    ],
)
def test_rules_accept_signals_that_work(parameters: dict[str, str]) -> None:
    assert evaluate(**parameters).failed_rules() == []


def test_each_signals_to_fail_over_value_above_1_has_its_own_rule() -> None:
    rules = site_source()["Rules"]
    conditions = [rule.get("RuleCondition") for rule in rules.values()]
    for wanted in ("2", "3", "4", "5"):
        assert {"Fn::Equals": [{"Ref": "SignalsToFailOver"}, wanted]} in conditions
    assert {"Fn::Equals": [{"Ref": "SignalsToFailOver"}, "1"]} not in conditions  # 1 (any) always works


# ---------------------------------------------------------------- sites/example.toml


def test_the_example_configs_commented_signals_are_valid_once_uncommented() -> None:
    """sites/example.toml documents every signal parameter as a commented "Name=value" line: uncommented, they
    pass the parameters' patterns and the Rules, with the file's own load-balancer primary."""
    text = (ROOT / "sites" / "example.toml").read_text()
    config = tomllib.loads(text)["default"]["deploy"]["parameters"]
    given = dict(item.split("=", 1) for item in config["parameter_overrides"])
    given = {name: value.strip('"') for name, value in given.items()}
    commented = dict(re.findall(r'(?m)^\s*# "([A-Za-z0-9]+)=([^"]*)"', text))
    assert set(commented) == set(NEW_PARAMETERS) - {"SignalAlarm3"}
    parameters = site_source()["Parameters"]
    for name, value in commented.items():
        if "AllowedPattern" in parameters[name]:
            assert re.fullmatch(parameters[name]["AllowedPattern"], value), name
        if "AllowedValues" in parameters[name]:
            assert value in [str(v) for v in parameters[name]["AllowedValues"]], name
    stack = Evaluator(site_source(), site_parameters(**given, **commented))
    assert stack.failed_rules() == []
    assert failover_config(stack)["HealthThreshold"] == 3  # 2 of 4 checks fail it over
