"""Where images live: one ECR repository per service, in the shared stack.

Tags are immutable: a version tag (``20261123-abc1234``) names exactly one image forever,
so staging and live run the same bytes. Promotion adds a second tag ``live-<version>``
to the same image; the lifecycle keeps every ``live-`` image and the most recent others.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from . import names

LIVE_TAG_PREFIX = names.LIVE_TAG_PREFIX
KEEP_RECENT_IMAGES = 50


class ServiceRepository(Construct):
    def __init__(self, scope: Construct, id: str, *, repository_name: str):
        super().__init__(scope, id)
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=repository_name,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            image_scan_on_push=True,
            encryption=ecr.RepositoryEncryption.AES_256,
            # Images are release artifacts that live may still run: never deleted with the stack.
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description="Keep every image promoted to live (tagged live-<version>)",
                    tag_prefix_list=[LIVE_TAG_PREFIX],
                    max_image_count=9999,
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"Keep the {KEEP_RECENT_IMAGES} most recent other images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=KEEP_RECENT_IMAGES,
                ),
            ],
        )


repository_arn = names.repository_arn  # kept importable here; built in infra/names.py
