"""`detour preflight --config-file`, `detour site add` and `detour site remove`, against the tests' moto
world and a local primary, with a fake `sam` first on PATH (a script that records its arguments and
exits with the code it is told): the real SAM CLI never runs here."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from detour_cli.preflight import settings
from detour_cli.stack_outputs import DetourError
from tests.cli.drill_world import self_signed_certificate
from tests.cli.test_preflight import (
    ZONE,
    add_record,
    new_zone,
    quick_probe,  # noqa: F401 - autouse: short deadlines, the local setup
)
from tests.cli.world import OTHER_DOMAIN, SITE_STACK, World
from tests.support.probe_servers import Answer, ProbeTarget, imported_certificate

SHOP = f"shop.{ZONE}"


class FakeSam:
    """`sam` on PATH: records each call's arguments (one JSON list a line) and exits with `exit_code`."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log = folder / "sam-calls.jsonl"
        self.code_file = folder / "sam-exit-code"
        self.exit_code = 0
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        script = bin_dir / "sam"
        script.write_text(
            f"#!{sys.executable}\n"
            "import json, pathlib, sys\n"
            f"with open({str(self.log)!r}, 'a') as log:\n"
            "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
            "print('fake sam:', *sys.argv[1:])\n"
            f"sys.exit(int(pathlib.Path({str(self.code_file)!r}).read_text()))\n"
        )
        script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    @property
    def exit_code(self) -> int:
        return int(self.code_file.read_text())

    @exit_code.setter
    def exit_code(self, code: int) -> None:
        self.code_file.write_text(str(code))

    @property
    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def zone(aws: str) -> str:
    """The public zone detour.test, empty (as test_preflight's zone)."""
    return new_zone()


@pytest.fixture
def certificate(aws: str, tmp_path: Path) -> str:
    return imported_certificate(tmp_path / "acm", f"*.{ZONE}")  # ISSUED: imported certificates are


@pytest.fixture
def primary_site(tmp_path: Path) -> Iterator[ProbeTarget]:
    """The shop's primary: HTTPS on loopback, self-signed, answering 200 (as test_preflight's primary)."""
    with ProbeTarget(Answer(200, b"<html>all good</html>"), tls=self_signed_certificate(tmp_path, SHOP)) as target:
        yield target


@pytest.fixture
def sam(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSam:
    """The fake sam, and the working directory a temporary one: no .venv-sam/bin/sam is found there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sites").mkdir()
    return FakeSam(tmp_path, monkeypatch)


def site_file(
    zone: str,
    certificate: str,
    primary_site: ProbeTarget,
    *,
    stack_name: str = "detour-site-shop",
    as_string: bool = False,
    path: str = "sites/shop.toml",
) -> Path:
    """sites/shop.toml as an operator would write it from sites/example.toml, for the local primary."""
    overrides = [
        "HubStackName=detour",
        f"DomainName={SHOP}",
        f"HostedZoneId={zone}",
        "PrimaryKind=IPv4",
        "PrimaryTarget=127.0.0.1",
        f"HealthCheckPort={primary_site.port}",
        "HealthCheckPath=/health",
        f"CertificateArn={certificate}",
        'SiteName="Detour Shop"',
    ]
    if as_string:
        written = "parameter_overrides = " + json.dumps(" ".join(overrides))
    else:
        written = "parameter_overrides = [\n" + "".join(f"    {json.dumps(o)},\n" for o in overrides) + "]"
    text = (
        "version = 0.1\n\n[default.deploy.parameters]\n"
        'template_file = "sites/site.yaml"\n'
        f'stack_name = "{stack_name}"\n'
        'region = "us-east-1"\nconfirm_changeset = true\n' + written + "\n"
    )
    file = Path(path)
    file.write_text(text)
    return file


@pytest.fixture
def shop(sam: FakeSam, zone: str, certificate: str, primary_site: ProbeTarget) -> Path:
    return site_file(zone, certificate, primary_site)


# ------------------------------------------------------------------------------- the config file


def test_parameter_overrides_read_as_sam_reads_them() -> None:
    as_list = ["DomainName=www.example.com", 'SiteName="Example Shop"', "ContactUrl=mailto:a@example.com"]
    as_string = "DomainName=www.example.com SiteName=\"Example Shop\" ContactUrl='mailto:a@example.com'"
    expected = {"DomainName": "www.example.com", "SiteName": "Example Shop", "ContactUrl": "mailto:a@example.com"}

    assert settings.parse_parameter_overrides(as_list) == expected
    assert settings.parse_parameter_overrides(as_string) == expected
    assert settings.parse_parameter_overrides(r"SiteName=Example\ Shop X=1 X=2") == {
        "SiteName": "Example Shop",
        "X": "2",
    }
    assert settings.parse_parameter_overrides("ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue=2") == {
        "A": "1",
        "B": "2",
    }
    with pytest.raises(DetourError, match="not Key=Value"):
        settings.parse_parameter_overrides(["DomainName"])


def test_the_example_file_reads_as_its_comments_say() -> None:
    config = settings.read_config(settings.SITE_TEMPLATE.parent / "example.toml")

    assert (config.stack_name, config.region, config.names_site_template) == (
        "detour-site-example",
        "us-east-1",
        True,
    )
    assert config.parameters["SiteName"] == "Example Shop"
    assert config.parameters["PrimaryKind"] == "LoadBalancer"
    assert settings.config_problems({**settings.defaults(), **config.parameters}) == []


@pytest.mark.parametrize("as_string", [False, True], ids=["list", "string"])
def test_preflight_checks_what_the_file_would_deploy(
    run: Any, sam: FakeSam, zone: str, certificate: str, primary_site: ProbeTarget, *, as_string: bool
) -> None:
    path = site_file(zone, certificate, primary_site, as_string=as_string)

    code, out, err = run("preflight", "--config-file", str(path), "--format", "json")

    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["sites"][0]["domain"] == SHOP
    assert document["sites"][0]["deployed"] is False
    (seen,) = primary_site.seen  # the probe used the file's port, path and domain
    assert (seen.path, seen.host) == ("/health", f"{SHOP}:{primary_site.port}")
    assert sam.calls == []  # preflight never deploys


def test_options_override_the_file(run: Any, shop: Path, primary_site: ProbeTarget) -> None:
    code, out, _ = run("preflight", "--config-file", str(shop), "--health-check-path", "/other")

    assert code == 0, out
    (seen,) = primary_site.seen
    assert seen.path == "/other"


def test_a_value_the_template_refuses_is_a_usage_error_naming_the_parameter(
    run: Any, sam: FakeSam, zone: str, certificate: str, primary_site: ProbeTarget
) -> None:
    path = site_file(zone, certificate, primary_site)
    path.write_text(path.read_text().replace('"HealthCheckPath=/health"', '"HealthCheckPath=/health", "Nope=1"'))
    code, _, err = run("preflight", "--config-file", str(path))
    assert code == 2
    assert "sites/site.yaml has no parameter Nope" in err

    path.write_text(path.read_text().replace('"Nope=1"', '"PriceClass=PriceClass_7"'))
    code, _, err = run("preflight", "--config-file", str(path))
    assert code == 2
    assert "PriceClass 'PriceClass_7': must be one of PriceClass_100" in err
    assert primary_site.seen == []  # refused before anything was checked


# ------------------------------------------------------------------------------------ site add


def test_add_runs_preflight_then_sam_deploy(run: Any, shop: Path, sam: FakeSam) -> None:
    code, out, err = run("site", "add", "shop")

    assert (code, err) == (0, "")
    assert sam.calls == [["deploy", "--config-file", "sites/shop.toml"]]  # sam shows the change set and asks
    assert (
        out.index("$ detour preflight --config-file sites/shop.toml")
        < out.index("0 failed")
        < out.index("fake sam: deploy --config-file sites/shop.toml")
    )
    assert "WARNING" not in out


def test_add_with_yes_does_not_confirm_the_change_set(run: Any, shop: Path, sam: FakeSam) -> None:
    assert run("site", "add", "shop", "--yes")[0] == 0
    assert sam.calls == [["deploy", "--config-file", "sites/shop.toml", "--no-confirm-changeset"]]


def test_a_failed_check_stops_the_add_before_sam(run: Any, shop: Path, sam: FakeSam, primary_site: ProbeTarget) -> None:
    primary_site.answer = Answer(500, b"database unavailable")

    code, out, err = run("site", "add", "shop", "--yes")

    assert code == 1
    assert sam.calls == []
    assert "FAIL  probe" in out
    assert "preflight failed 1 check: nothing deployed" in err
    assert "--force deploys anyway" in err


def test_force_deploys_anyway_and_says_what_it_ignores(
    run: Any, shop: Path, sam: FakeSam, primary_site: ProbeTarget, zone: str
) -> None:
    primary_site.answer = Answer(500, b"database unavailable")
    add_record(zone, {"Name": SHOP, "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.44"}]})

    code, out, _ = run("site", "add", "shop", "--force")

    assert code == 0
    assert sam.calls == [["deploy", "--config-file", "sites/shop.toml"]]
    assert "!!! --force: deploying although preflight failed 2 checks:" in out
    assert "!!!   hosted-zone: " in out
    assert "!!!   probe: " in out


def test_an_error_in_preflight_stops_the_add_even_with_force(
    run: Any, sam: FakeSam, zone: str, certificate: str, primary_site: ProbeTarget
) -> None:
    path = site_file(zone, certificate, primary_site)
    path.write_text(path.read_text().replace("PrimaryKind=IPv4", "PrimaryKind=Nothing"))

    code, _, err = run("site", "add", "shop", "--force")

    assert code == 2
    assert sam.calls == []
    assert "PrimaryKind 'Nothing': must be one of LoadBalancer, IPv4" in err


def test_a_missing_file_says_how_to_make_it(run: Any, sam: FakeSam) -> None:
    code, _, err = run("site", "add", "docs")

    assert code == 2
    assert sam.calls == []
    assert "no sites/docs.toml" in err
    assert "cp sites/example.toml sites/docs.toml" in err
    assert 'stack_name = "detour-site-docs"' in err
    assert "DomainName, HostedZoneId, PrimaryKind, PrimaryTarget" in err  # the example's own keys
    assert not Path("sites/docs.toml").exists()  # nothing invented


def test_a_stack_name_that_is_not_the_sites_warns(
    run: Any, sam: FakeSam, zone: str, certificate: str, primary_site: ProbeTarget
) -> None:
    site_file(zone, certificate, primary_site, stack_name="shop-detour")

    code, out, _ = run("site", "add", "shop", "--yes")

    assert code == 0
    assert "WARNING: sites/shop.toml deploys stack shop-detour, not detour-site-shop" in out
    assert len(sam.calls) == 1


def test_a_hub_other_than_the_files_is_refused(run: Any, shop: Path, sam: FakeSam) -> None:
    code, _, err = run("site", "add", "shop", "--stack", "detour-hub")

    assert code == 2
    assert "adds the site to hub stack detour (HubStackName), not detour-hub (--stack)" in err
    assert sam.calls == []


def test_add_passes_on_sams_exit_code(run: Any, shop: Path, sam: FakeSam) -> None:
    sam.exit_code = 7
    code, out, _ = run("site", "add", "shop", "--config-file", "sites/shop.toml", "--yes")
    assert code == 7
    assert "fake sam: deploy" in out


def test_no_sam_anywhere_is_exit_2_and_says_how_to_get_it(
    run: Any, shop: Path, sam: FakeSam, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    code, out, err = run("site", "add", "shop")

    assert code == 2
    assert "no SAM CLI" in err
    assert "make build" in err
    assert "preflight" not in out  # nothing checked for a deploy that cannot happen


def test_the_projects_own_sam_comes_first(run: Any, shop: Path, sam: FakeSam, tmp_path: Path) -> None:
    project_sam = tmp_path / ".venv-sam" / "bin" / "sam"
    project_sam.parent.mkdir(parents=True)
    project_sam.write_bytes((tmp_path / "bin" / "sam").read_bytes())
    project_sam.chmod(0o755)

    code, out, _ = run("site", "add", "shop", "--yes")

    assert code == 0
    assert "$ .venv-sam/bin/sam deploy --config-file sites/shop.toml --no-confirm-changeset" in out


# ---------------------------------------------------------------------------------- site remove


def test_remove_shows_what_goes_and_runs_sam_delete(run: Any, world: World, sam: FakeSam) -> None:
    code, out, err = run("site", "remove", "www")

    assert (code, err) == (0, "")
    assert sam.calls == [["delete", "--stack-name", SITE_STACK, "--region", "us-east-1"]]
    assert f"Removing site www: stack {SITE_STACK} (us-east-1)" in out
    assert f"the stack's health check {world.check_id}" in out
    assert f"sites/{world.check_id}/" in out
    assert f"stays: its history (transitions, windows, timeline) in table {world.table_name}" in out

    assert run("site", "remove", "www", "--yes")[0] == 0
    assert sam.calls[1] == ["delete", "--stack-name", SITE_STACK, "--region", "us-east-1", "--no-prompts"]


def test_remove_refuses_an_unknown_site_and_lists_the_sites(
    run: Any, world: World, other_site: World, sam: FakeSam
) -> None:
    code, _, err = run("site", "remove", "shop", "--yes")

    assert code == 2
    assert sam.calls == []
    assert "no site shop: no stack detour-site-shop in us-east-1" in err
    assert f"{SITE_STACK} (www.detour.test)" in err
    assert f"detour-site-api ({OTHER_DOMAIN})" in err


def test_remove_takes_a_stack_that_exists_though_unregistered(run: Any, world: World, sam: FakeSam) -> None:
    topic = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    boto3.client("cloudformation").create_stack(StackName="detour-site-half", TemplateBody=json.dumps(topic))
    sam.exit_code = 1

    code, out, _ = run("site", "remove", "half", "--yes")

    assert code == 1  # sam delete's own
    assert "not registered with hub stack detour: only the stack goes" in out
    assert sam.calls == [["delete", "--stack-name", "detour-site-half", "--region", "us-east-1", "--no-prompts"]]
