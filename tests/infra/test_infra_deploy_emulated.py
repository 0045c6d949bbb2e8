"""`cdk bootstrap` + `cdk deploy PymService-staging` with the real CDK CLI against moto.

EMULATION ONLY: every request goes to a moto_server on 127.0.0.1, never to AWS. moto's
CloudFormation creates the ECR repository, IAM roles/profile, VPC, SNS and alarms, and
skips Elastic Beanstalk resources (application, environment): this test proves the
deploy path (bootstrap, asset publishing, dependency order, stack names) and what those
emulated resources look like, not that Beanstalk runs the service.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pymacaron.testing.runner import free_port
from tests.infra.infra_helpers import CONFIGS, ROOT, cdk_cli, tool_env

pytestmark = [pytest.mark.emulated, pytest.mark.slow, pytest.mark.xdist_group("moto")]

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"  # the fixture's aws_region


@pytest.fixture
def moto_endpoint(tmp_path):
    port = free_port()
    with open(tmp_path / "moto.log", "w") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("moto_server")),
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield f"http://localhost:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_deploy_staging_against_moto_emulation(moto_endpoint, tmp_path):
    import boto3

    env = tool_env(
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
    )

    def cdk(*args: str) -> str:
        proc = subprocess.run(
            [cdk_cli(), *args, "--no-notices"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout + proc.stderr

    assembly = tmp_path / "cdk.out"
    cdk("synth", "-q", "-o", str(assembly), "-c", f"config={CONFIGS / 'service.yaml'}")
    cdk("bootstrap", f"aws://{ACCOUNT}/{REGION}", "--app", str(assembly))
    # A direct deploy of a stage deploys its dependency (the shared stack) first.
    out = cdk("deploy", "PymService-staging", "--app", str(assembly), "--require-approval", "never")
    assert out.index("PymService-shared") < out.index("PymService-staging")

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )

    def client(name):
        return session.client(name, endpoint_url=moto_endpoint)

    cfn = client("cloudformation")
    stacks = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    assert stacks == {
        "CDKToolkit": "CREATE_COMPLETE",
        "pym-network": "CREATE_COMPLETE",  # deployed first, as a dependency of staging
        "testsvc-shared": "CREATE_COMPLETE",
        "testsvc-staging": "CREATE_COMPLETE",
    }
    assert (
        int(
            client("ssm").get_parameter(Name="/cdk-bootstrap/hnb659fds/version")["Parameter"][
                "Value"
            ]
        )
        >= 6
    )

    repo = client("ecr").describe_repositories(repositoryNames=["testsvc"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["repositoryUri"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/testsvc"

    iam = client("iam")
    resources = cfn.describe_stack_resources(StackName="testsvc-staging")["StackResources"]
    # (moto lists the resources it skipped, such as the Beanstalk environment, without ids)
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("LogicalResourceId")
    }
    role = next(
        v for k, v in physical.items() if k.startswith("RolesInstanceRole") and "Policy" not in k
    )
    policy_name = iam.list_role_policies(RoleName=role)["PolicyNames"][0]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    pull = next(s for s in document["Statement"] if s.get("Sid") == "PullOwnImages")
    assert pull["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/testsvc"
    secret_read = next(s for s in document["Statement"] if s.get("Sid") == "ReadOwnParameters")
    assert secret_read["Resource"] == (
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/testsvc/staging/jwt-secret"
    )
    profiles = iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    assert len(profiles) == 1
    assert moto_endpoint.startswith("http://localhost:")
