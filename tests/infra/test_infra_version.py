"""How an image reaches an environment, and the network variants."""

from __future__ import annotations

import json
import textwrap

import pytest

from pymacaron.exceptions import StartupError
from tests.infra.infra_helpers import CONFIGS, option, synthesize

pytestmark = pytest.mark.xdist_group("cdk")

VERSION = "20261123-abc1234"
IMAGE = f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/testsvc:{VERSION}"


def bundle_files(synthesized, stack_id: str) -> dict[str, str]:
    """The source bundle a stage stack uploads (its one file asset), as path -> text."""
    assets = json.loads((synthesized.outdir / f"{stack_id}.assets.json").read_text())
    bundles = [a for a in assets["files"].values() if a["source"].get("packaging") == "zip"]
    assert len(bundles) == 1
    root = synthesized.outdir / bundles[0]["source"]["path"]
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    return synthesize(
        CONFIGS / "service.yaml",
        tmp_path_factory.mktemp("v") / "cdk.out",
        version=VERSION,
        environ={"CDK_DEFAULT_ACCOUNT": "111122223333"},
    )


@pytest.mark.parametrize("stage", ["staging", "live"])
def test_version_context_deploys_that_image_tag(released, stage):
    stack_id = f"PymService-{stage}"
    versions = released.resources(stack_id, "AWS::ElasticBeanstalk::ApplicationVersion")
    assert len(versions) == 1
    ((logical_id, version),) = versions.items()
    assert version["Properties"]["ApplicationName"] == "testsvc"
    env = next(iter(released.resources(stack_id, "AWS::ElasticBeanstalk::Environment").values()))
    assert env["Properties"]["VersionLabel"] == {"Ref": logical_id}
    files = bundle_files(released, stack_id)
    dockerrun = json.loads(files["Dockerrun.aws.json"])
    assert dockerrun["Image"]["Name"] == IMAGE
    assert dockerrun["Ports"] == [{"ContainerPort": 8080}]
    # HTTP -> HTTPS redirect only where the stage has a certificate
    redirect = ".ebextensions/https-redirect.config"
    assert (redirect in files) == (stage == "live")
    if stage == "live":
        assert '"StatusCode": "HTTP_301"' in files[redirect]
    assert released.templates[stack_id]["Outputs"]["Image"]["Value"] == IMAGE


def test_a_version_without_a_known_account_is_a_clear_error(tmp_path):
    with pytest.raises(StartupError) as err:
        synthesize(CONFIGS / "service.yaml", tmp_path / "o", version=VERSION, environ={})
    assert "aws_account" in str(err.value) and VERSION in str(err.value)


def test_a_version_that_is_not_an_image_tag_is_refused(tmp_path):
    with pytest.raises(StartupError) as err:
        synthesize(
            CONFIGS / "service.yaml",
            tmp_path / "o",
            version="v1; rm -rf /",
            environ={"CDK_DEFAULT_ACCOUNT": "111122223333"},
        )
    assert "context 'version'" in str(err.value)


def test_existing_vpc_and_no_nat(tmp_path):
    existing = tmp_path / "existing.yaml"
    existing.write_text(
        textwrap.dedent("""
        name: vpcsvc
        vpc:
          id: vpc-0abc1234
          public_subnets: [subnet-0a1, subnet-0b2]
          private_subnets: [subnet-1a1, subnet-1b2]
        """)
    )
    s = synthesize(existing, tmp_path / "a")
    t = s.templates["PymService-staging"]
    assert not s.resources("PymService-staging", "AWS::EC2::VPC")
    assert option(t, "aws:ec2:vpc", "VPCId") == "vpc-0abc1234"
    assert option(t, "aws:ec2:vpc", "Subnets") == "subnet-1a1,subnet-1b2"
    assert option(t, "aws:ec2:vpc", "ELBSubnets") == "subnet-0a1,subnet-0b2"
    assert option(t, "aws:ec2:vpc", "AssociatePublicIpAddress") == "false"
    assert not s.resources("PymService-staging", "AWS::SNS::Subscription")

    no_nat = tmp_path / "nonat.yaml"
    no_nat.write_text("name: natless\nvpc:\n  nat_gateways: 0\n")
    s = synthesize(no_nat, tmp_path / "b", quality_gates=False)
    t = s.templates["PymService-live"]
    assert not s.resources("PymService-network", "AWS::EC2::NatGateway")
    assert option(t, "aws:ec2:vpc", "AssociatePublicIpAddress") == "true"
    assert option(t, "aws:ec2:vpc", "Subnets") == {"Fn::ImportValue": "pym-network-InstanceSubnets"}
    net = s.templates["PymService-network"]["Outputs"]
    instance_subnets = next(o for o in net.values() if "InstanceSubnets" in str(o.get("Export")))
    assert "publicSubnet" in json.dumps(instance_subnets["Value"])
