"""The platform version: `pym platform refresh` records it, synthesis replays it offline.

Refresh is tested with botocore's Stubber (ListPlatformVersions' real request and response
model); moto's Beanstalk does not list platform versions by branch.
"""

from __future__ import annotations

import argparse
import json

import boto3
import pytest
from aws_cdk import App, Environment, Stack
from botocore.stub import Stubber

from pymacaron.commands import plan as plan_commands
from pymacaron.exceptions import StartupError
from pymacaron_kit import platform
from pymacaron_kit.config import PLATFORM_BRANCH, load_service_config

ARN = "arn:aws:elasticbeanstalk:eu-west-1::platform/" + PLATFORM_BRANCH + "/{}"
FILTERS = [
    {"Type": "PlatformBranchName", "Operator": "=", "Values": [PLATFORM_BRANCH]},
    {"Type": "PlatformStatus", "Operator": "=", "Values": ["Ready"]},
]


def summary(version: str, state: str | None = None) -> dict:
    s = {
        "PlatformArn": ARN.format(version),
        "PlatformBranchName": PLATFORM_BRANCH,
        "PlatformVersion": version,
        "PlatformStatus": "Ready",
    }
    if state:
        s["PlatformLifecycleState"] = state
    return s


def config(tmp_path, region="eu-west-1"):
    path = tmp_path / "pym-config.yaml"
    path.write_text(f"name: svc\naws_region: {region}\n")
    return load_service_config(str(path))


def beanstalk():
    return boto3.session.Session().client(
        "elasticbeanstalk",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_stubber_refresh_records_the_recommended_version_across_pages(tmp_path):
    cfg = config(tmp_path)
    (tmp_path / "cdk.context.json").write_text(json.dumps({"other-lookup": 1}))
    client = beanstalk()
    with Stubber(client) as stub:
        stub.add_response(
            "list_platform_versions",
            {"PlatformSummaryList": [summary("4.7.3"), summary("4.9.0")], "NextToken": "p2"},
            {"Filters": FILTERS, "MaxRecords": 100},
        )
        stub.add_response(
            "list_platform_versions",
            {"PlatformSummaryList": [summary("4.8.1", "Recommended")]},
            {"Filters": FILTERS, "MaxRecords": 100, "NextToken": "p2"},
        )
        record = platform.refresh(cfg, client=client)
        stub.assert_no_pending_responses()
    # AWS's recommended version wins over a newer one not yet recommended
    assert record["version"] == "4.8.1" and record["arn"] == ARN.format("4.8.1")
    saved = json.loads((tmp_path / "cdk.context.json").read_text())
    assert saved["pym:platform"]["arn"] == ARN.format("4.8.1")
    assert saved["pym:platform"]["region"] == "eu-west-1"
    assert saved["other-lookup"] == 1  # other context is kept
    assert platform.read_record(str(tmp_path / "cdk.context.json"))["version"] == "4.8.1"


def test_stubber_refresh_takes_the_newest_without_a_recommendation(tmp_path):
    client = beanstalk()
    with Stubber(client) as stub:
        stub.add_response(
            "list_platform_versions",
            {"PlatformSummaryList": [summary("4.10.0"), summary("4.9.2")]},
            {"Filters": FILTERS, "MaxRecords": 100},
        )
        assert platform.refresh(config(tmp_path), client=client)["version"] == "4.10.0"


def test_stubber_refresh_refused_is_one_line(tmp_path):
    client = beanstalk()
    with Stubber(client) as stub:
        stub.add_client_error("list_platform_versions", "AccessDenied", "not allowed")
        with pytest.raises(StartupError) as err:
            platform.refresh(config(tmp_path), client=client)
    assert "AccessDenied: not allowed" in str(err.value) and "\n" not in str(err.value)


def test_refresh_without_credentials_is_a_clear_one_line_error(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    with pytest.raises(StartupError) as err:
        platform.refresh(config(tmp_path))
    assert str(err.value).startswith("no AWS credentials") and "\n" not in str(err.value)
    assert not (tmp_path / "cdk.context.json").exists()


def test_the_subcommand_is_pym_platform_refresh(tmp_path, monkeypatch, capsys):
    cfg = config(tmp_path)
    parser = argparse.ArgumentParser()
    plan_commands.add_commands(parser.add_subparsers())
    args = parser.parse_args(["platform", "refresh", "--config", cfg.path])
    record = {"arn": ARN.format("4.8.1"), "version": "4.8.1", "branch": PLATFORM_BRANCH}
    monkeypatch.setattr(platform, "refresh", lambda *a, **k: record)
    assert args.func(args) == 0
    assert "4.8.1" in capsys.readouterr().out


def _resolve(cfg, context=None):
    app = App(context=context or {})
    stack = Stack(app, "S", env=Environment(region=cfg.region) if cfg.region else None)
    resolved = platform.resolve(stack, cfg)
    return stack, stack.resolve(resolved.platform_arn)


def test_synth_replays_the_recorded_version_offline(tmp_path):
    cfg = config(tmp_path)
    (tmp_path / "cdk.context.json").write_text(
        json.dumps({"pym:platform": {"arn": ARN.format("4.9.9"), "region": "eu-west-1"}})
    )
    _, arn = _resolve(cfg)
    assert f"eu-west-1::platform/{PLATFORM_BRANCH}/4.9.9" in json.dumps(arn)
    # cdk's own context (cdk.json / -c) wins over the file
    _, arn = _resolve(cfg, {"pym:platform": {"arn": ARN.format("5.0.0"), "version": "5.0.0"}})
    assert "/5.0.0" in json.dumps(arn)


def test_nothing_recorded_falls_back_with_a_synth_warning(tmp_path):
    stack, arn = _resolve(config(tmp_path))
    assert f"/{platform.FALLBACK_VERSION}" in json.dumps(arn)
    warnings = [m for m in stack.node.metadata if m.type == "aws:cdk:warning"]
    assert any("pym platform refresh" in str(m.data) for m in warnings)


def test_a_record_for_another_region_or_a_bad_file_is_refused(tmp_path):
    (tmp_path / "cdk.context.json").write_text(
        json.dumps({"pym:platform": {"arn": ARN.format("4.9.9"), "region": "us-east-1"}})
    )
    with pytest.raises(StartupError) as err:
        _resolve(config(tmp_path))
    assert "cdk.context.json" in str(err.value) and "us-east-1" in str(err.value)
    (tmp_path / "cdk.context.json").write_text(json.dumps({"pym:platform": "4.9.9"}))
    with pytest.raises(StartupError, match="pym:platform"):
        _resolve(config(tmp_path))
