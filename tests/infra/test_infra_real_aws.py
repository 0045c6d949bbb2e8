"""What AWS does that cfn-lint, cdk-nag and moto do not check (issue "Real AWS").

Each test names its finding; each failed before its fix. Templates come from the session
fixtures (``synthesized``: configs/service.yaml; ``piped``: configs/pipeline.yaml).
"""

from __future__ import annotations

import json
import re
from importlib.metadata import version

import pytest

from pymacaron.exceptions import StartupError
from pymacaron_kit import pins
from pymacaron_kit.config import load_service_config
from pymacaron_kit.pipeline_steps import connection_actions
from pymacaron_kit.version import IMDS_HOP_LIMIT, source_bundle
from tests.infra.infra_helpers import ROOT, option

pytestmark = pytest.mark.xdist_group("cdk")

STAGES = ("PymService-staging", "PymService-live")
CERT = "arn:aws:acm:eu-west-1:111122223333:certificate/0f0e0d0c-aaaa-bbbb-cccc-000000000001"


def nested(piped) -> dict[str, dict]:
    return {
        p.parent.name: json.loads(p.read_text())
        for p in sorted(piped.outdir.glob("assembly-*/*.template.json"))
    }


def write(tmp_path, text: str) -> str:
    path = tmp_path / "pym-config.yaml"
    path.write_text(text)
    return str(path)


# 1. Retired platform version ---------------------------------------------------------


@pytest.mark.parametrize("stack_id", STAGES)
def test_1_environments_name_the_platform_by_updatable_arn(synthesized, stack_id):
    (env,) = synthesized.resources(stack_id, "AWS::ElasticBeanstalk::Environment").values()
    props = env["Properties"]
    # SolutionStackName is create-only (a change replaces the fixed-name environment);
    # PlatformArn updates in place. The version is the one recorded in cdk.context.json.
    assert "SolutionStackName" not in props
    arn = json.dumps(props["PlatformArn"])
    assert (
        ":elasticbeanstalk:eu-west-1::platform/Docker running on 64bit Amazon Linux 2023/4.8.0"
        in arn
    )


# 2. Smoke test, certificates and DNS --------------------------------------------------


def test_2_the_shipped_config_serves_each_host_with_its_certificate():
    cfg = load_service_config(str(ROOT / "pym-config.yaml"))
    for stage in cfg.stages.values():
        assert bool(stage.live_host) == bool(stage.cert_arn), stage.stage


@pytest.mark.parametrize(
    "text, key, message",
    [
        ("live_host: api.x.example.com\n", "live_host", "needs its certificate"),
        (f"aws_cert_arn: {CERT}\n", "aws_cert_arn", "needs the host name"),
        (
            f"stages:\n  staging:\n    aws_cert_arn: {CERT}\n",
            "stages.staging.aws_cert_arn",
            "needs the host name",
        ),
        (
            f"live_host: api.x.example.com\naws_cert_arn: {CERT}\n"
            "hosted_zone: {id: Z0123456789ABC, name: other.example.com}\n",
            "hosted_zone.name",
            "contains api.x.example.com",
        ),
        (
            f"live_host: example.com\naws_cert_arn: {CERT}\n"
            "hosted_zone: {id: Z0123456789ABC, name: example.com}\n",
            "live_host",
            "zone apex",
        ),
    ],
)
def test_2_host_certificate_and_zone_must_agree(tmp_path, text, key, message):
    with pytest.raises(StartupError) as err:
        load_service_config(write(tmp_path, "name: svc\n" + text))
    assert f"key '{key}'" in str(err.value) and message in str(err.value)


def test_2_a_top_level_certificate_is_lives_only(tmp_path):
    cfg = load_service_config(
        write(tmp_path, f"name: svc\nlive_host: api.svc.example.com\naws_cert_arn: {CERT}\n")
    )
    assert cfg.stages["live"].https and not cfg.stages["staging"].https
    # staging (no host): no 443 listener, no redirect to https://<LB name> whose
    # certificate would not match
    files = source_bundle("img:1", https_redirect=cfg.stages["staging"].https)
    assert ".ebextensions/https-redirect.config" not in files


def test_2_live_gets_its_dns_record_and_https_url(synthesized):
    live = synthesized.templates["PymService-live"]
    (record,) = synthesized.resources("PymService-live", "AWS::Route53::RecordSet").values()
    (env_id,) = synthesized.resources("PymService-live", "AWS::ElasticBeanstalk::Environment")
    assert record["Properties"]["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    assert record["Properties"]["Name"] == "api.testsvc.example.com."
    assert record["Properties"]["Type"] == "CNAME"
    assert record["Properties"]["ResourceRecords"] == [{"Fn::GetAtt": [env_id, "EndpointURL"]}]
    assert live["Outputs"]["ServiceUrl"]["Value"] == "https://api.testsvc.example.com"
    assert option(live, "aws:elbv2:listener:443", "SSLCertificateArns") == CERT
    staging = synthesized.templates["PymService-staging"]
    assert not synthesized.resources("PymService-staging", "AWS::Route53::RecordSet")
    assert "ServiceUrl" not in staging["Outputs"]
    assert option(staging, "aws:elbv2:listener:443", "ListenerEnabled") is None
    # a stage without a host is tested on its load balancer's own URL
    stacks = synthesized.stacks.stages
    assert stacks["staging"].public_url is stacks["staging"].environment_url
    assert stacks["live"].public_url is not stacks["live"].environment_url


def test_2_with_a_pipeline_only_its_live_stage_owns_the_dns_record(piped):
    records = {
        name: [r for r in t["Resources"].values() if r["Type"] == "AWS::Route53::RecordSet"]
        for name, t in {**piped.templates, **nested(piped)}.items()
    }
    owners = {name for name, found in records.items() if found}
    assert owners == {"assembly-PymService-pipeline-Live"}
    (record,) = records["assembly-PymService-pipeline-Live"]
    assert record["Properties"]["Name"] == "api.testsvc.example.com."


# 4. Containers keep instance credentials ------------------------------------------------


def test_4_the_launch_template_lets_containers_reach_imdsv2(piped):
    service = piped.stacks.pipeline.live.service
    bundle = piped.outdir / "assembly-PymService-pipeline-Live" / service.release.bundle.asset_path
    config = json.loads((bundle / ".ebextensions" / "imds-hop-limit.config").read_text())
    options = config["Resources"]["AWSEBEC2LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert options["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 2,
    }
    assert IMDS_HOP_LIMIT == 2
    assert (bundle / "Dockerrun.aws.json").is_file()


# 5. Connection permission prefix ------------------------------------------------------


def test_5_the_source_role_uses_the_connections_own_prefix(piped):
    arn = (
        "arn:aws:codeconnections:eu-west-1:111122223333:connection/"
        "00000000-0000-0000-0000-000000000000"
    )
    policies = piped.resources("PymService-pipeline", "AWS::IAM::Policy")
    source = [p for k, p in policies.items() if k.startswith("PipelineSource")]
    assert source
    statements = [s for p in source for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any(
        s["Action"] == "codeconnections:UseConnection" and s["Resource"] == arn for s in statements
    )
    # every role CDK gave the old action (the clone-output CodeBuild steps too) has the new one
    for p in policies.values():
        doc = json.dumps(p["Properties"]["PolicyDocument"])
        if "codestar-connections:UseConnection" in doc:
            assert "codeconnections:UseConnection" in doc
    assert connection_actions("arn:aws:codestar-connections:eu-west-1:1:connection/x") == [
        "codestar-connections:UseConnection"
    ]


# 6. One network per account and region -----------------------------------------------


def test_6_no_stage_makes_its_own_vpc_nat_or_eip(synthesized, piped):
    templates = {**synthesized.templates, **nested(piped)}
    counted = {}
    for stack_id, t in templates.items():
        for r in t["Resources"].values():
            if r["Type"] in ("AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
                counted.setdefault(stack_id, []).append(r["Type"])
    # direct and pipeline stages (four environments) share the one network stack's NAT
    assert set(counted) == {"PymService-network"}
    assert sorted(counted["PymService-network"]) == [
        "AWS::EC2::EIP",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPC",
    ]
    for t in nested(piped).values():
        assert "pym-network-VpcId" in json.dumps(t)
    assert piped.stacks.network in piped.stacks.pipeline.dependencies


def test_6_a_second_network_needs_its_own_range(tmp_path):
    with pytest.raises(StartupError) as err:
        load_service_config(write(tmp_path, "name: svc\nvpc:\n  name: other-net\n"))
    assert "key 'vpc.cidr'" in str(err.value) and "10.0.0.0/16" in str(err.value)
    cfg = load_service_config(
        write(tmp_path, "name: svc\nvpc:\n  name: other-net\n  cidr: 10.1.0.0/16\n")
    )
    assert (cfg.network.name, cfg.network.cidr) == ("other-net", "10.1.0.0/16")
    with pytest.raises(StartupError, match="would overlap"):
        load_service_config(
            write(tmp_path, "name: svc\nvpc:\n  name: other-net\n  cidr: 10.0.0.0/16\n")
        )


def test_6_the_shared_network_has_the_default_range(synthesized):
    (vpc,) = synthesized.resources("PymService-network", "AWS::EC2::VPC").values()
    assert vpc["Properties"]["CidrBlock"] == "10.0.0.0/16"


# 7. Isolation: instance policy, bootstrap, secrets per stage -----------------------------


@pytest.mark.parametrize("stack_id", STAGES)
def test_7_the_instance_role_reaches_only_its_own_environment(synthesized, stack_id):
    stage = stack_id.split("-")[1]
    roles = synthesized.resources(stack_id, "AWS::IAM::Role")
    instance = next(r for k, r in roles.items() if k.startswith("RolesInstanceRole"))
    assert "AWSElasticBeanstalkWebTier" not in json.dumps(instance["Properties"])
    assert "ManagedPolicyArns" not in instance["Properties"]
    docs = json.dumps(
        [p["Properties"] for p in synthesized.resources(stack_id, "AWS::IAM::Policy").values()]
    )
    assert "elasticbeanstalk-*" not in docs and "/aws/elasticbeanstalk*" not in docs
    assert f"log-group:/aws/elasticbeanstalk/testsvc-{stage}/*" in docs
    assert ":s3:::elasticbeanstalk-eu-west-1-" in docs
    assert f"environment/testsvc/testsvc-{stage}" in docs


def test_7_staging_and_live_may_not_share_a_secret(tmp_path):
    base = "name: svc\nenv_secrets: [JWT_SECRET]\nsecrets:\n  JWT_SECRET: "
    with pytest.raises(StartupError) as err:
        load_service_config(write(tmp_path, base + "/svc/jwt-secret\n"))
    assert "key 'secrets.JWT_SECRET'" in str(err.value) and "valid on live" in str(err.value)
    cfg = load_service_config(write(tmp_path, base + "/svc/{stage}/jwt-secret\n"))
    assert cfg.stages["staging"].secrets[0].parameter_name == "/svc/staging/jwt-secret"
    assert cfg.stages["live"].secrets[0].parameter_name == "/svc/live/jwt-secret"
    shared = base + "/svc/jwt-secret\nshared_secrets: [JWT_SECRET]\n"
    assert load_service_config(write(tmp_path, shared)).stages["live"].secrets


def test_7_a_bootstrap_qualifier_reaches_every_stack(tmp_path):
    from aws_cdk import App

    from pymacaron_kit.stacks import build_app

    app = App()
    stacks = build_app(
        app, write(tmp_path, "name: svc\nbootstrap_qualifier: svc01\n"), quality_gates=False
    )
    assert app.node.try_get_context("@aws-cdk/core:bootstrapQualifier") == "svc01"
    template = app.synth().get_stack_by_name(stacks.stages["live"].stack_name).template
    assert template["Parameters"]["BootstrapVersion"]["Default"] == "/cdk-bootstrap/svc01/version"


# 8. Base image pulls --------------------------------------------------------------------


def test_8_the_default_base_image_comes_from_ecr_public():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    (default,) = re.findall(r"^ARG BASE_IMAGE=(\S+)$", dockerfile, re.M)
    assert default == "public.ecr.aws/docker/library/python:3.11-slim"


# 9. Tags reach the pipeline's stage stacks ------------------------------------------------


def test_9_pipeline_stage_resources_carry_the_tags(piped):
    for name, t in nested(piped).items():
        stage = "staging" if name.endswith("Staging") else "live"
        roles = [r for r in t["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
        assert roles
        for role in roles:
            tags = {x["Key"]: x["Value"] for x in role["Properties"].get("Tags", [])}
            assert tags["pym:service"] == "testsvc", name
            assert tags["pym:stage"] == stage and tags["pym:deployed-by"] == "pipeline", name


# 10. Pinned gates ------------------------------------------------------------------------


def test_10_pins_are_what_the_repository_tests_with():
    assert version("cdk-nag") == pins.CDK_NAG
    assert version("cfn-lint") == pins.CFN_LINT
    assert version("pip") == pins.PIP
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/aws-cdk"]["version"] == pins.CDK_CLI
    assert lock["node_modules/cdk-assets"]["version"] == pins.CDK_ASSETS


INSTALL = re.compile(r"\b(pip3?|python3? -m pip|npm|npx|uv pip)\s+(install|i|exec)?\b(.*)")


def _unpinned(command: str) -> list[str]:
    found = []
    for m in INSTALL.finditer(command):
        words = m.group(3).split()
        # `-r FILE` / `-c FILE`: a requirements file, whose pins are its own (the generated
        # one pins pymacaron[kit]==<version>)
        files = {words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-r", "-c")}
        args = [a for a in words if not a.startswith("-") and a not in files]
        for arg in args:
            name = arg.strip("'\"")
            if name in (".", "-e") or name.startswith((".", "/", "$")):
                continue
            pinned = "==" in name or re.search(r".@\d[\w.-]*$", name)
            if not pinned:
                found.append(name)
    return found


def test_10_no_buildspec_installs_anything_unpinned(piped):
    specs = []
    for r in piped.resources("PymService-pipeline", "AWS::CodeBuild::Project").values():
        spec = r["Properties"]["Source"]["BuildSpec"]
        if isinstance(spec, str) and spec.lstrip().startswith("{"):
            specs.append(json.loads(spec))
    specs += [json.loads(p.read_text()) for p in piped.outdir.glob("buildspec-*.yaml")]
    assert len(specs) >= 9
    commands = [
        c for s in specs for phase in s["phases"].values() for c in phase.get("commands", [])
    ]
    assert "npm install -g cdk-assets@4.7.3" in commands
    assert "npm install -g aws-cdk@2.1148.1" in commands
    assert [c for c in commands if _unpinned(c)] == []
    assert _unpinned("npm install -g cdk-assets@latest") == ["cdk-assets@latest"]
    assert _unpinned("pip install cdk-nag<4") == ["cdk-nag<4"]
    # the requirements install the kit's ranges: pip's constraints pin the gates first
    assert _unpinned("pip install -q -r requirements.txt") == []
    install_step = "pip install -q -r requirements.txt"
    seen = 0
    for s in specs:
        install = s["phases"].get("install", {}).get("commands", [])
        if install_step in install:
            seen += 1
            before = install[: install.index(install_step)]
            assert before == pins.constraint_commands()
            assert "'cdk-nag==3.0.2'" in before[1] and "'cfn-lint==1.58.0'" in before[1]
    assert seen >= 5


# 11. Scan results gate promotion ----------------------------------------------------------


def test_11_the_scan_gate_runs_before_approval_and_promotion(piped):
    tpl = piped.templates["PymService-pipeline"]
    (pipeline,) = [
        r for r in tpl["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    live = next(s for s in pipeline["Properties"]["Stages"] if s["Name"] == "Live")
    order = {a["Name"]: a["RunOrder"] for a in live["Actions"]}
    assert order["ImageScanGate"] < order["Approve"] < order["PromoteImage"]
    gate = next(a for a in live["Actions"] if a["Name"] == "ImageScanGate")
    project = tpl["Resources"][gate["Configuration"]["ProjectName"]["Ref"]]["Properties"]
    spec = json.loads(project["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == [
        'pym image scan-gate --tag "$COMMIT_ID" --repository-uri "$REPOSITORY_URI"'
    ]
    role = project["ServiceRole"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in piped.resources("PymService-pipeline", "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    scan = [s for s in statements if "ecr:DescribeImageScanFindings" in s["Action"]]
    assert scan and "repository/testsvc" in json.dumps(scan[0]["Resource"])
    assert not any("ecr:PutImage" in json.dumps(s["Action"]) for s in statements)


def test_the_new_subcommands_parse(tmp_path):
    import argparse

    from pymacaron.commands import image, plan

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    for module in (plan, image):
        module.add_commands(sub)
    assert parser.parse_args(["plan"]).against == "HEAD"
    assert parser.parse_args(["plan", "--against", "main"]).against == "main"
    assert parser.parse_args(["platform", "refresh"]).func is plan.cmd_platform_refresh
    assert parser.parse_args(["image", "scan-gate", "--tag", "x"]).allow_findings is False
