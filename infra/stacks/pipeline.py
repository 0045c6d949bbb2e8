"""``PymService-pipeline``: git push -> synth -> tests + image -> staging -> acceptance ->
[approval] -> live (the same image) -> smoke test. CDK Pipelines (docs/pipeline.md).

The stages are :class:`ServiceStage` -- the very ``ServiceStageStack`` of direct deploys,
named ``<name>-pipeline-<stage>`` (stack, Beanstalk environment, queues) so a pipeline and
direct ``cdk deploy PymService-staging`` deploys never collide. The shared stack (ECR
repository, Beanstalk application) is the direct one: the pipeline stack depends on it.
"""

from __future__ import annotations

from aws_cdk import Stack, Token
from aws_cdk import aws_codebuild as codebuild
from constructs import Construct

from .. import names
from ..config import ServiceConfig
from ..nag import acknowledge
from ..stages import PipelineParts, PymStage
from .base import open_service_stack

ServiceStage = PymStage  # its name before the stage became a public construct


class PipelineStack(PipelineParts, Stack):
    """:class:`~infra.stages.PymPipeline`'s options, and a Stack's (``env``...)."""

    def _open_scope(self, scope: Construct, id: str, config: ServiceConfig, **kwargs) -> None:
        assert config.pipeline is not None, "PipelineStack needs a `pipeline:` section"
        name = config.stack_name(names.PIPELINE_INFIX)
        what = "git push -> staging -> acceptance -> live"
        open_service_stack(self, scope, id, config, name, what, **kwargs)


def _sub(value):
    """``{"Fn::Join": ["", [...]]}`` of strings and Refs -> the same as ``Fn::Sub``."""
    if not (isinstance(value, dict) and list(value) == ["Fn::Join"]):
        return None
    delimiter, parts = value["Fn::Join"]
    text = []
    for part in parts:
        if isinstance(part, str):
            text.append(part.replace("${", "${!"))
        elif isinstance(part, dict) and list(part) == ["Ref"]:
            text.append("${" + part["Ref"] + "}")
        else:
            return None
    return {"Fn::Sub": delimiter.join(text)}


def join_to_sub(stack: Stack, cfn_pipeline) -> None:
    """Write the deploy actions' generated role ARNs as Fn::Sub (cfn-lint E3703)."""
    for i, stage in enumerate(stack.resolve(cfn_pipeline.stages)):
        for j, action in enumerate(stage["actions"]):
            sub = _sub((action.get("configuration") or {}).get("RoleArn"))
            if sub:
                cfn_pipeline.add_property_override(
                    f"Stages.{i}.Actions.{j}.Configuration.RoleArn", sub
                )


# cdk-nag findings on what CDK Pipelines generates, each with its reason (AwsSolutions-IAM5).
ARTIFACT_WILDCARDS = {
    "Action::s3:GetObject*": "CDK Pipelines grants read of the artifact bucket's objects as "
    "s3:GetObject* on this pipeline's own encrypted bucket only.",
    "Action::s3:GetBucket*": "CDK Pipelines reads the location and versioning of this "
    "pipeline's own artifact bucket with s3:GetBucket*.",
    "Action::s3:List*": "Listing is scoped to this pipeline's own artifact bucket.",
    "Action::s3:DeleteObject*": "The source and synth actions replace their own artifacts in "
    "this pipeline's own bucket.",
    "Action::s3:Abort*": "Aborting multipart uploads is scoped to this pipeline's own "
    "artifact bucket.",
    "Action::kms:ReEncrypt*": "The artifact key grant uses kms:ReEncrypt* on the pipeline's "
    "own artifact key only.",
    "Action::kms:GenerateDataKey*": "The artifact key grant uses kms:GenerateDataKey* on the "
    "pipeline's own artifact key only.",
}
PROJECT_LOGS_REASON = (
    "CodeBuild grants every project its default log group and report groups by name prefix, "
    "which exist only per build."
)
SELF_MUTATION_REASONS = {
    "Resource::*": "Self-mutation reads CloudFormation stack state, which has no "
    "resource-level scoping.",
    "Resource::arn:*:iam::<AWS::AccountId>:role/*": "Self-mutation assumes the CDK bootstrap "
    "deploy roles of this account, whose names the bootstrap qualifier decides.",
}
ASSETS_REASONS = {
    "Resource::*": "Asset publishing assumes the CDK bootstrap file-publishing role, which "
    "the bootstrap qualifier names.",
    "Resource::arn:<AWS::Partition>:logs:{region}:<AWS::AccountId>:log-group:/aws/codebuild/*": (
        "The shared asset-publishing role serves every asset project, whose log groups CodeBuild "
        "names per project."
    ),
    "Resource::arn:<AWS::Partition>:codebuild:{region}:<AWS::AccountId>:report-group/*": (
        "The shared asset-publishing role serves every asset project, whose report groups "
        "CodeBuild names per project."
    ),
}


def acknowledge_generated(stack: Stack, pipeline, bucket, image_step, codeartifact=False) -> None:
    """Acknowledge, on the construct that causes each, the findings CDK Pipelines brings."""
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region

    def logical(construct) -> str:
        return stack.resolve(stack.get_logical_id(construct.node.default_child))

    rule = "AwsSolutions-IAM5[{}]"
    for finding, reason in ARTIFACT_WILDCARDS.items():
        acknowledge(pipeline, rule.format(finding), reason)
    acknowledge(
        pipeline,
        rule.format(f"Resource::<{logical(bucket)}.Arn>/*"),
        "Object-level permissions are scoped to this pipeline's own artifact bucket.",
    )
    for construct in pipeline.node.find_all():
        if not isinstance(construct, codebuild.Project) or construct.role is None:
            continue
        name = logical(construct)
        for resource in (
            f"arn:<AWS::Partition>:logs:{region}:<AWS::AccountId>:log-group:/aws/codebuild/"
            f"{'<' + name + '>'}:*",
            f"arn:<AWS::Partition>:codebuild:{region}:<AWS::AccountId>:report-group/"
            f"{'<' + name + '>'}-*",
        ):
            acknowledge(construct.role, rule.format(f"Resource::{resource}"), PROJECT_LOGS_REASON)
        path = construct.node.path
        if path.endswith("/UpdatePipeline/SelfMutation"):
            for finding, reason in SELF_MUTATION_REASONS.items():
                acknowledge(construct.role, rule.format(finding), reason)
        elif "/Assets/" in path:
            for finding, reason in ASSETS_REASONS.items():
                acknowledge(construct.role, rule.format(finding.format(region=region)), reason)
        elif codeartifact and not path.endswith(f"/{image_step.id}/{image_step.id}"):
            acknowledge(
                construct.role,
                rule.format("Resource::*"),
                "sts:GetServiceBearerToken has no resource; its condition limits it to "
                "CodeArtifact (aws codeartifact login before pip install).",
            )
        if path.endswith(f"/{image_step.id}/{image_step.id}"):
            acknowledge(
                construct.role,
                rule.format("Resource::*"),
                "ecr:GetAuthorizationToken cannot be scoped to a resource; pushes are limited "
                "to the service's own repository.",
            )
            acknowledge(
                construct,
                "AwsSolutions-CB3",
                "This is the one project that builds the image, and docker build needs "
                "privileged mode.",
            )
