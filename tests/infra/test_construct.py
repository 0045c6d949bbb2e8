"""PymService in a team's own CDK app (docs/deploy.md: "Your own CDK app", "Escape hatches").

The app is the docs' own code blocks, run as ``python app.py`` in a fresh directory with a
pym-config of its own (never the example service's), synthesized for real: cdk-nag runs
inside synthesis and cfn-lint over the template.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from .infra_helpers import ROOT, cfn_lint, nag_violations, tool_env

DEPLOY_MD = ROOT / "docs" / "deploy.md"
CONFIG = """\
name: shelf
aws_region: eu-west-1
aws_hosts_min: 1
aws_hosts_max: 2
env_secrets:
  - JWT_SECRET
secrets:
  JWT_SECRET: /shelf/{stage}/jwt-secret
"""
PIPELINE = """\
pipeline:
  connection_arn: arn:aws:codeconnections:eu-west-1:123456789012:connection/11111111-2222-3333-4444-555555555555
  repository: books/shelf
  branch: main
"""


def _section(title: str) -> str:
    text = DEPLOY_MD.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def _blocks(title: str, lang: str) -> list[str]:
    """The section's fenced blocks, dedented (those inside a numbered list are indented)."""
    return [textwrap.dedent(b) for b in re.findall(rf"```{lang}\n(.*?)```", _section(title), re.S)]


@pytest.fixture(scope="module")
def user_app(tmp_path_factory):
    """The docs' app.py, plus the escape hatches, synthesized in a directory of its own."""
    (app_code,) = _blocks("Your own CDK app", "python")
    hatches = _blocks("Escape hatches", "python")
    (yaml_block,) = _blocks("Escape hatches", "yaml")
    (pipeline_code,) = _blocks("The stages and the pipeline in your own CDK app", "python")
    assert "app.synth()" in app_code and len(hatches) == 1
    extra = hatches[0] + "\n" + pipeline_code
    code = app_code.replace("add_quality_gates(app)", extra + "\nadd_quality_gates(app)", 1)
    where = tmp_path_factory.mktemp("shelf")
    (where / "pym-config.yaml").write_text(CONFIG + PIPELINE + yaml_block)
    (where / "app.py").write_text(code)
    outdir = where / "cdk.out"
    proc = subprocess.run(
        [sys.executable, "app.py"],
        cwd=where,
        env=tool_env(CDK_OUTDIR=str(outdir)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, outdir


def _template(outdir):
    return json.loads((outdir / "Shelf.template.json").read_text())


def _of_type(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def test_user_app_with_pym_service_beside_its_bucket_synthesizes_clean(user_app):
    proc, outdir = user_app
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert nag_violations(outdir) == []  # cdk-nag ran in synthesis: nothing unacknowledged
    lint = cfn_lint(sorted(outdir.glob("*.template.json")))
    assert lint.returncode == 0, lint.stdout + lint.stderr
    t = _template(outdir)
    (bucket,) = _of_type(t, "AWS::S3::Bucket")
    assert _of_type(t, "AWS::ElasticBeanstalk::Environment")
    assert _of_type(t, "AWS::ECR::Repository") and _of_type(t, "AWS::ElasticBeanstalk::Application")


def test_user_app_grants_the_service_read_on_its_bucket(user_app):
    proc, outdir = user_app
    assert proc.returncode == 0, proc.stderr[-3000:]
    t = _template(outdir)
    (bucket,) = _of_type(t, "AWS::S3::Bucket")
    roles = _of_type(t, "AWS::IAM::Role")
    (instance_role,) = [k for k, v in roles.items() if "ec2.amazonaws.com" in json.dumps(v)]
    statements = [
        s
        for p in _of_type(t, "AWS::IAM::Policy").values()
        if {"Ref": instance_role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    reads = [s for s in statements if bucket in json.dumps(s.get("Resource"))]
    assert reads and "s3:GetObject*" in reads[0]["Action"]
    assert not any("s3:Put" in json.dumps(s["Action"]) for s in reads)  # read only


def _options(t):
    (env,) = _of_type(t, "AWS::ElasticBeanstalk::Environment").values()
    return env, {
        (o["Namespace"], o["OptionName"]): o["Value"] for o in env["Properties"]["OptionSettings"]
    }


def test_escape_hatches_reach_l1_properties_and_option_settings(user_app):
    proc, outdir = user_app
    assert proc.returncode == 0, proc.stderr[-3000:]
    t = _template(outdir)
    env, options = _options(t)
    (bucket,) = _of_type(t, "AWS::S3::Bucket")
    assert env["Properties"]["CNAMEPrefix"] == "shelf-books"  # the L1 escape hatch
    assert options[("aws:elasticbeanstalk:application:environment", "COVERS_BUCKET")] == {
        "Ref": bucket
    }
    assert options[("aws:elasticbeanstalk:xray", "XRayEnabled")] == "true"  # pym-config
    assert options[("aws:elasticbeanstalk:environment:proxy", "ProxyServer")] == "nginx"
    role = next(
        v for v in _of_type(t, "AWS::IAM::Role").values() if "ec2.amazonaws.com" in json.dumps(v)
    )
    assert role["Properties"]["MaxSessionDuration"] == 7200  # raw property override
    # the kit's own settings are still there
    assert options[("aws:autoscaling:asg", "MaxSize")] == "2"


# ---- in-process: the construct's API and pym-config's beanstalk_options --------------------


def _stack():
    from aws_cdk import App, Stack

    return Stack(App(), "Team")


def _config(tmp_path, extra: str = "") -> str:
    path = tmp_path / "pym-config.yaml"
    path.write_text(CONFIG + extra)
    return str(path)


def test_add_option_setting_replaces_and_refuses_an_unknown_namespace(tmp_path):
    from pymacaron.exceptions import StartupError
    from pymacaron_kit import PymService

    service = PymService(_stack(), "Shelf", config=_config(tmp_path), stage="live")
    service.add_option_setting("aws:autoscaling:asg", "MaxSize", "9")
    settings = [
        (o.namespace, o.option_name, o.value)
        for o in service.environment.option_settings  # type: ignore[union-attr]
        if o.option_name == "MaxSize"
    ]
    assert settings == [("aws:autoscaling:asg", "MaxSize", "9")]  # replaced, not duplicated
    with pytest.raises(StartupError, match="aws:elasticbeanstalk:xray"):
        service.add_option_setting("aws:elasticbeanstalk:xrays", "XRayEnabled", "true")
    assert service.repository is service.shared.repository  # type: ignore[union-attr]
    assert service.grant_principal is service.instance_role
    assert service.queues == [] and service.table_map == {}
    assert len(service.alarm_list) == 2


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            '{namespace: "aws:elasticbeanstalk:xrai", option: XRayEnabled, value: true}',
            r"pym-config.yaml: key 'beanstalk_options\[0\]': unknown Beanstalk namespace "
            r"'aws:elasticbeanstalk:xrai' .*did you mean 'aws:elasticbeanstalk:xray'",
        ),
        (
            '{namespace: "aws:autoscaling:asg", option: MaxSize, value: 4}',
            r"beanstalk_options\[0\]'.*set from pym-config's 'aws_hosts_max': use that",
        ),
        (
            '{namespace: "aws:elasticbeanstalk:application:environment", option: A, value: b}',
            r"set from pym-config's 'env'",
        ),
    ],
)
def test_beanstalk_options_errors_name_the_file_entry_and_fix(tmp_path, entry, message):
    from pymacaron.exceptions import StartupError
    from pymacaron_kit.beanstalk_options import beanstalk_options

    path = _config(tmp_path, f"beanstalk_options:\n  - {entry}\n")
    with pytest.raises(StartupError, match=message):
        beanstalk_options(path, "staging")


def test_beanstalk_options_schema_and_stage_override(tmp_path):
    from pymacaron.exceptions import StartupError
    from pymacaron_kit.beanstalk_options import BeanstalkOption, beanstalk_options

    path = _config(
        tmp_path,
        "beanstalk_options:\n"
        '  - {namespace: "aws:elbv2:listener:8443", option: Protocol, value: HTTPS}\n'
        "stages:\n  live:\n    beanstalk_options:\n"
        '      - {namespace: "aws:elasticbeanstalk:environment:process:admin", '
        "option: Port, value: 9000}\n",
    )
    assert beanstalk_options(path, "staging") == (
        BeanstalkOption("aws:elbv2:listener:8443", "Protocol", "HTTPS"),
    )
    assert beanstalk_options(path, "live") == (
        BeanstalkOption("aws:elasticbeanstalk:environment:process:admin", "Port", "9000"),
    )
    bad = _config(tmp_path, 'beanstalk_options:\n  - {namespace: "aws:ec2:vpc", option: X}\n')
    with pytest.raises(StartupError, match="beanstalk_options"):
        beanstalk_options(bad, "staging")


def test_user_app_holds_the_pipeline_and_its_stages_as_constructs(user_app):
    """The docs' PymPipeline block, in a stack of the user's own, in the same synthesis:
    a CodePipeline whose stages deploy the pipeline-named stage stacks (PymStage)."""
    proc, outdir = user_app
    assert proc.returncode == 0, proc.stderr[-3000:]
    t = json.loads((outdir / "ShelfDelivery.template.json").read_text())
    (cfn_pipeline,) = _of_type(t, "AWS::CodePipeline::Pipeline").values()
    stages = [s["Name"] for s in cfn_pipeline["Properties"]["Stages"]]
    assert stages[0] == "Source" and "Staging" in stages and "Live" in stages
    assert stages.index("Staging") < stages.index("Live")
    manifest = json.loads((outdir / "manifest.json").read_text())
    nested = {k: v for k, v in manifest["artifacts"].items() if v["type"] == "cdk:cloud-assembly"}
    assert len(nested) == 2, sorted(manifest["artifacts"])
    live_dir = next(outdir / v["properties"]["directoryName"] for k, v in nested.items()
                    if k.endswith("Live"))  # fmt: skip
    (live_template,) = live_dir.glob("*.template.json")
    live = json.loads(live_template.read_text())
    (env,) = _of_type(live, "AWS::ElasticBeanstalk::Environment").values()
    assert env["Properties"]["EnvironmentName"] == "shelf-pipeline-live"
    options = {(o["Namespace"], o["OptionName"]): o["Value"]
               for o in env["Properties"]["OptionSettings"]}  # fmt: skip
    key = ("aws:elasticbeanstalk:application:environment", "FEATURED_SHELF")
    assert options[key] == "classics"  # the stage stack offers PymService's helpers


def test_pipeline_and_stage_constructs_are_what_the_kit_stacks_use():
    """The kit's pipeline stack is built by PymPipeline's code; its stages are PymStages."""
    from pymacaron_kit import PymPipeline, PymStage
    from pymacaron_kit.stacks.pipeline import PipelineStack, ServiceStage
    from pymacaron_kit.stages import PipelineParts

    assert issubclass(PipelineStack, PipelineParts) and issubclass(PymPipeline, PipelineParts)
    assert ServiceStage is PymStage
