"""Shared by tests/infra/test_operate_*.py: a moto_server on 127.0.0.1 and seed data.

EMULATION ONLY: moto records CloudFormation stacks (with outputs), ECR images and tags,
Beanstalk applications/environments (as records: health Grey, no versions or events),
auto scaling groups, CloudWatch Logs and CodePipeline executions. Nothing here is AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pymacaron.testing.runner import free_port  # noqa: F401  (re-exported to tests)
from tests.infra.infra_helpers import CONFIGS

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
SERVICE_CONFIG = str(CONFIGS / "service.yaml")  # testsvc, no pipeline
PIPELINE_CONFIG = str(CONFIGS / "pipeline.yaml")  # testsvc with a pipeline
REPO_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/testsvc"
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


class MotoServer:
    """``moto_server`` from this venv on an ephemeral port; ``stop()`` ends it by handle."""

    def __init__(self, log_path: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("moto_server")),
                    "-H",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/moto-api/", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)

    def reset(self) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=5).read()

    def enforce_iam(self, on: bool) -> None:
        """From now on every request is checked against its caller's IAM policies (or not)."""
        count = b"0" if on else b"1000000000"
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/moto-api/reset-auth",
                                     data=count, method="POST",
                                     headers={"Content-Type": "text/plain"})  # fmt: skip
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def manifest(tag: str) -> str:
    """A distinct, valid image manifest per version (so each has its own digest)."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 100,
                "digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 10,
                    "digest": "sha256:" + hashlib.sha256(b"layer " + tag.encode()).hexdigest(),
                }
            ],
        }
    )


def stage_template(env_name: str, version: str | None, service_url: str | None = None) -> str:
    """A stage stack's outputs as infra/stacks/service.py declares them (moto skips the
    Beanstalk resources, so the stack holds one emulated resource and the outputs)."""
    out = {
        "EnvironmentName": {"Value": env_name},
        "EnvironmentUrl": {"Value": f"http://{env_name}.{REGION}.elasticbeanstalk.com"},
        "EndpointUrl": {"Value": f"{env_name}.{REGION}.elasticbeanstalk.com"},
    }
    if version:
        out["Image"] = {"Value": f"{REPO_URI}:{version}"}
    if service_url:
        out["ServiceUrl"] = {"Value": service_url}
    return json.dumps(
        {
            "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
            "Outputs": out,
        }
    )


class Seed:
    """Puts a deployed service's records into moto, the way the stacks would leave them."""

    def __init__(self, session):
        self.s = session

    def images(self, *tags_per_image: tuple[str, ...]) -> None:
        ecr = self.s.client("ecr")
        try:
            ecr.create_repository(repositoryName="testsvc")
        except ecr.exceptions.RepositoryAlreadyExistsException:
            pass
        for tags in tags_per_image:
            for tag in tags:
                ecr.put_image(
                    repositoryName="testsvc", imageManifest=manifest(tags[0]), imageTag=tag
                )

    def stage(
        self, env_name: str, version: str | None, *, hosts=(1, 2, 2), service_url=None
    ) -> None:
        self.s.client("cloudformation").create_stack(
            StackName=env_name, TemplateBody=stage_template(env_name, version, service_url)
        )
        eb = self.s.client("elasticbeanstalk")
        if not eb.describe_applications()["Applications"]:
            eb.create_application(ApplicationName="testsvc")
        eb.create_environment(
            ApplicationName="testsvc",
            EnvironmentName=env_name,
            SolutionStackName="64bit Amazon Linux 2023 v4.7.3 running Docker",
        )
        asg = self.s.client("autoscaling")
        asg.create_launch_configuration(
            LaunchConfigurationName=f"{env_name}-lc",
            ImageId="ami-12c6146b",
            InstanceType="t3.small",
        )
        low, high, desired = hosts
        asg.create_auto_scaling_group(
            AutoScalingGroupName=f"awseb-{env_name}-AWSEBAutoScalingGroup",
            LaunchConfigurationName=f"{env_name}-lc",
            MinSize=low,
            MaxSize=high,
            DesiredCapacity=desired,
            AvailabilityZones=[f"{REGION}a"],
            Tags=[
                {
                    "Key": "elasticbeanstalk:environment-name",
                    "Value": env_name,
                    "PropagateAtLaunch": True,
                }
            ],
        )

    def logs(self, group: str, streams: dict[str, list[tuple[int, str]]]) -> None:
        logs = self.s.client("logs")
        logs.create_log_group(logGroupName=group)
        for stream, events in streams.items():
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": t, "message": m} for t, m in events],
            )
