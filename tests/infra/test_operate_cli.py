"""pym status/logs/rollback/open/url: names from pym-config, options, help, exit codes,
and the default deploy (a `cdk` on PATH). No AWS and no emulator: nothing here calls AWS."""

from __future__ import annotations

import argparse
import os
import stat

import pytest

from pymacaron.commands import operate, run
from pymacaron_kit.config import load_service_config
from pymacaron_kit.names import Names
from pymacaron_kit.operate import logs, rollback, url
from pymacaron_kit.operate.aws import image_tag
from tests.infra.operate_fixtures import PIPELINE_CONFIG, SERVICE_CONFIG

COMMANDS = ("status", "logs", "rollback", "url", "open")


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    """Any AWS call would go nowhere: unroutable endpoint, no credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)


def test_every_name_comes_from_pym_config():
    names = Names(load_service_config(PIPELINE_CONFIG))
    rows = [
        (t.key, t.stack_name, t.environment_name, t.cdk_id, t.managed_by) for t in names.targets()
    ]
    assert rows == [
        ("staging", "testsvc-staging", "testsvc-staging", "PymService-staging", "direct"),
        ("live", "testsvc-live", "testsvc-live", "PymService-live", "direct"),
        (
            "pipeline-staging",
            "testsvc-pipeline-staging",
            "testsvc-pipeline-staging",
            "PymService-pipeline/Staging/Service",
            "pipeline",
        ),
        (
            "pipeline-live",
            "testsvc-pipeline-live",
            "testsvc-pipeline-live",
            "PymService-pipeline/Live/Service",
            "pipeline",
        ),
    ]
    assert (names.shared_stack, names.repository, names.application) == (
        "testsvc-shared",
        "testsvc",
        "testsvc",
    )
    assert names.pipeline_name == "testsvc-pipeline"
    live = names.target("live")
    assert live.app_log_group == (
        "/aws/elasticbeanstalk/testsvc-live/var/log/eb-docker/containers/eb-current-app/stdouterr.log"
    )
    assert live.health_log_group == "/aws/elasticbeanstalk/testsvc-live/environment-health.log"
    assert (
        names.target("testsvc-pipeline-live").key == "pipeline-live"
    )  # the environment name works too
    assert names.create_command(live) == "pym deploy live --version VERSION"
    assert Names(load_service_config(SERVICE_CONFIG)).pipeline_name is None


def test_names_match_the_synthesized_stacks():
    """The names the stacks create, read from the CDK app itself (not restated)."""
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from pymacaron_kit.stacks import build_app

    stacks = build_app(App(), config_path=PIPELINE_CONFIG, version="v1", quality_gates=False)
    names = Names(stacks.config)
    assert stacks.stages["staging"].stack_name == names.target("staging").stack_name
    assert stacks.stages["live"].node.id == names.target("live").cdk_id
    assert stacks.pipeline.live.service.stack_name == names.target("pipeline-live").stack_name
    assert stacks.pipeline.staging.service.node.path == names.target("pipeline-staging").cdk_id
    assert (
        stacks.pipeline.live.service.beanstalk.environment_name
        == names.target("pipeline-live").environment_name
    )
    assert stacks.shared.stack_name == names.shared_stack
    assert stacks.pipeline.stack_name == names.pipeline_name
    # what status and rollback read back: the Image output and the version's description
    template = Template.from_stack(stacks.stages["staging"]).to_json()
    (version,) = [
        r for r in template["Resources"].values() if r["Type"] == rollback.VERSION_RESOURCE
    ]
    assert rollback.version_of(version["Properties"]["Description"]) == "v1"
    assert image_tag(template["Outputs"]["Image"]["Value"]) == "v1"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_documents_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as e:
        run([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:\n  0  ok\n  1  " in out and "\n  2  usage or pym-config error" in out


def test_add_commands_plugs_into_a_pym_style_parser():
    parser = argparse.ArgumentParser(prog="pym")
    sub = parser.add_subparsers(dest="command", required=True)
    operate.add_commands(sub)
    args = parser.parse_args(["logs", "live", "--since", "2h", "--request-id", "abc", "-f"])
    assert (args.stage, args.since, args.request_id, args.follow) == ("live", "2h", "abc", True)
    assert callable(args.func)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["logs", "staging", "--since", "yesterday"],
            "option --since: expected a duration like 10m",
        ),
        (["logs", "staging", "--request-id", "a b"], "option --request-id: expected a request id"),
        (["logs", "staging", "--interval", "0"], "option --interval: expected a positive number"),
        (["rollback", "staging", "--to", "bad tag!"], "option --to: expected an image tag"),
        (["url", "prod"], "unknown stage 'prod': expected one of staging, live"),
        (
            ["status", "pipeline-live"],
            "stage 'pipeline-live' is pipeline-managed, but pym-config has no 'pipeline:'",
        ),
    ],
)
def test_user_errors_are_one_line_exit_2(argv, message, capsys):
    code = run([*argv, "--config", SERVICE_CONFIG])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_missing_config_is_exit_2(tmp_path, capsys):
    code = run(["status", "--config", str(tmp_path / "nope.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.yaml" in err and err.count("\n") == 1


def test_since_durations_and_times():
    now = 1_800_000_000.0
    assert logs.parse_since("10m", now) == (now - 600) * 1000
    assert logs.parse_since("2h", now) == (now - 7200) * 1000
    assert logs.parse_since("1d", now) == (now - 86400) * 1000
    assert logs.parse_since("2026-12-01T09:00:00Z") == 1796115600000
    assert logs.parse_since("2026-12-01T09:00:00") == 1796115600000  # naive means UTC


def test_request_id_matches_whole_tokens_only():
    assert logs.mentions("INFO [req-2] pymacaron: hi", "req-2")
    assert logs.mentions('"GET / HTTP/1.1" 200 request_id=req-2', "req-2")
    assert not logs.mentions("INFO [req-22] x", "req-2")
    assert not logs.mentions("INFO [a.req-2] x", "req-2")


def test_default_deploy_runs_cdk_deploy_of_the_stage_stack(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "cdk-args"
    fake = bindir / "cdk"
    fake.write_text(f'#!/bin/sh\necho "$PWD" > {record}\nprintf "%s\\n" "$@" >> {record}\nexit 4\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    names = Names(load_service_config(PIPELINE_CONFIG))
    service_dir = tmp_path / "svc"
    service_dir.mkdir()
    code = rollback.cdk_deploy(names.target("pipeline-live"), "v7", str(service_dir))
    assert code == 4  # the deploy's own exit code
    lines = record.read_text().splitlines()
    assert lines[0] == str(service_dir)
    assert lines[1:] == [
        "deploy",
        "PymService-pipeline/Live/Service",
        "-c",
        "version=v7",
        "--require-approval",
        "never",
    ]


def test_default_deploy_without_cdk_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    names = Names(load_service_config(PIPELINE_CONFIG))
    with pytest.raises(Exception, match="the CDK CLI 'cdk' is not on PATH"):
        rollback.cdk_deploy(names.target("pipeline-staging"), "v1", str(tmp_path))


def test_default_deploy_of_a_direct_stage_goes_through_pym_deploy(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "pymacaron_kit.deploy.deploy",
        lambda root, stage, version, extra=(): calls.append((root, stage, version, extra)) or 0,
    )
    names = Names(load_service_config(SERVICE_CONFIG))
    assert rollback.cdk_deploy(names.target("live"), "v3", str(tmp_path)) == 0
    assert calls == [(str(tmp_path), "live", "v3", ("--require-approval", "never"))]


def test_open_only_when_a_browser_exists():
    opened = []
    assert url.open_in_browser("https://x/docs", lambda: False, opened.append) is False
    assert opened == []
    assert url.open_in_browser("https://x/docs", lambda: True, lambda u: opened.append(u) or True)
    assert opened == ["https://x/docs"]


def test_no_browser_detected_without_display(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("BROWSER", raising=False)
    import shutil
    import webbrowser

    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    assert url.browser_available() is False
