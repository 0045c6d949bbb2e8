"""How an image reaches an environment: a Beanstalk application version.

``cdk deploy PymService-staging -c version=20261123-abc1234`` names an image tag already
pushed to the service's ECR repository (by ``pym image push``). The stage stack then carries a
source bundle (a CDK file asset: ``Dockerrun.aws.json`` naming that image, the platform
nginx's error pages and body limit (proxy.py), plus the HTTP->HTTPS redirect when the stage
has a certificate) and an application version
the environment runs. Without a version the environment runs Beanstalk's sample app.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile

from aws_cdk import aws_elasticbeanstalk as eb
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from pymacaron.config import DEFAULTS as RUNTIME_DEFAULTS

from . import names
from .config import CONTAINER_PORT
from .proxy import nginx_files

# Replaces the port-80 listener's default action: the documented Beanstalk way to
# redirect HTTP to HTTPS on an application load balancer.
HTTPS_REDIRECT = {
    "Resources": {
        "AWSEBV2LoadBalancerListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": {"Ref": "AWSEBV2LoadBalancer"},
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [
                    {
                        "Type": "redirect",
                        "RedirectConfig": {
                            "Protocol": "HTTPS",
                            "Port": "443",
                            "Host": "#{host}",
                            "Path": "/#{path}",
                            "Query": "#{query}",
                            "StatusCode": "HTTP_301",
                        },
                    }
                ],
            },
        }
    }
}


# Docker's bridge network is one more hop from the instance metadata service: with IMDSv1
# off (IMDSv2 only) the default PUT hop limit of 1 leaves the container without instance
# credentials. Beanstalk has no option for it; this customizes its launch template.
IMDS_HOP_LIMIT = 2
IMDS_LAUNCH_TEMPLATE = {
    "Resources": {
        "AWSEBEC2LaunchTemplate": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "MetadataOptions": {
                        "HttpEndpoint": "enabled",
                        "HttpTokens": "required",
                        "HttpPutResponseHopLimit": IMDS_HOP_LIMIT,
                    }
                }
            },
        }
    }
}


image_uri = names.image_uri  # kept importable here; built in infra/names.py


def source_bundle(
    image: str, https_redirect: bool, max_body_size: int = RUNTIME_DEFAULTS["max_body_size"]
) -> dict[str, str]:
    """The files of the source bundle: path -> content (the platform's nginx: proxy.py)."""
    dockerrun = {
        "AWSEBDockerrunVersion": "1",
        "Image": {"Name": image, "Update": "true"},
        "Ports": [{"ContainerPort": CONTAINER_PORT}],
    }
    files = {
        "Dockerrun.aws.json": json.dumps(dockerrun, indent=2, sort_keys=True) + "\n",
        ".ebextensions/imds-hop-limit.config": (
            json.dumps(IMDS_LAUNCH_TEMPLATE, indent=2, sort_keys=True) + "\n"
        ),
        **nginx_files(max_body_size),
    }
    if https_redirect:
        files[".ebextensions/https-redirect.config"] = (
            json.dumps(HTTPS_REDIRECT, indent=2, sort_keys=True) + "\n"
        )
    return files


class ImageVersion(Construct):
    """An application version whose source bundle runs one image tag."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        application_name: str,
        image: str,
        version: str,
        https_redirect: bool,
        max_body_size: int = RUNTIME_DEFAULTS["max_body_size"],
    ):
        super().__init__(scope, id)
        bundle_dir = tempfile.mkdtemp(prefix="pym-bundle-")
        # The asset is copied into the cloud assembly; the scratch copy goes at exit.
        atexit.register(shutil.rmtree, bundle_dir, ignore_errors=True)
        for rel, content in source_bundle(image, https_redirect, max_body_size).items():
            path = os.path.join(bundle_dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
        self.bundle = s3_assets.Asset(self, "SourceBundle", path=bundle_dir)
        self.version = eb.CfnApplicationVersion(
            self,
            "Version",
            application_name=application_name,
            description=f"image {image} (version {version})",
            source_bundle=eb.CfnApplicationVersion.SourceBundleProperty(
                s3_bucket=self.bundle.s3_bucket_name, s3_key=self.bundle.s3_object_key
            ),
        )
        self.version_label = self.version.ref
