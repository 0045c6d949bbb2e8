"""``PymService-pipeline``: git push -> synth -> tests + image -> staging -> acceptance ->
[approval] -> live (the same image) -> smoke test. CDK Pipelines (docs/pipeline.md).

The stages are :class:`ServiceStage` -- the very ``ServiceStageStack`` of direct deploys,
named ``<name>-pipeline-<stage>`` (stack, Beanstalk environment, queues) so a pipeline and
direct ``cdk deploy PymService-staging`` deploys never collide. The shared stack (ECR
repository, Beanstalk application) is the direct one: the pipeline stack depends on it.
"""

from __future__ import annotations

from aws_cdk import Annotations, Aws, CfnOutput, Stack, Stage, Tags, Token, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from constructs import Construct

from .. import names
from .. import pipeline as steps
from ..config import ServiceConfig
from ..nag import acknowledge
from ..names import repository_arn
from .service import ServiceStageStack


class ServiceStage(Stage):
    """One pipeline-managed stage: the service stack of that stage, pipeline-named."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ServiceConfig,
        stage: str,
        image: str | None,
        version: str | None,
        **kwargs,
    ):
        super().__init__(scope, id, **kwargs)
        # Tags here: add_stage() synthesizes the stage before build_app could tag it.
        for key, value in (
            ("pym:service", config.name),
            ("pym:stack", names.environment_name(config.pipeline_prefix, stage)),
            ("pym:stage", stage),
            ("pym:deployed-by", "pipeline"),
        ):
            Tags.of(self).add(key, value)
        self.service = ServiceStageStack(
            self,
            "Service",
            config=config,
            stage=stage,
            image=image,
            version=version,
            name_prefix=config.pipeline_prefix,
        )


class PipelineStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ServiceConfig,
        image: str | None = None,
        version: str | None = None,
        stage_env=None,
        **kwargs,
    ):
        assert config.pipeline is not None, "PipelineStack needs a `pipeline:` section"
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name(names.PIPELINE_INFIX),
            description=f"{config.name}: git push -> staging -> acceptance -> live (pymacaron)",
            **kwargs,
        )
        p = config.pipeline
        if p.placeholder_connection:
            Annotations.of(self).add_warning_v2(
                "pym:placeholder-connection",
                f"pipeline.connection_arn ({p.connection_arn}) is pym new's placeholder: create "
                "a CodeConnections connection (aws codeconnections create-connection "
                "--provider-type GitHub --connection-name NAME, then approve it in the console) "
                "and set its ARN in pym-config.yaml; `pym deploy pipeline` refuses the placeholder",
            )
        self.artifacts = steps.ArtifactStore(self, "Artifacts")
        days = max(s.log_retention_days for s in config.stages.values())
        self.build_logs = steps.build_log_group(self, "BuildLogs", days)
        self.source = steps.pipeline_source(self, p)
        commit = self.source.source_attribute("CommitId")
        repo_uri = names.repository_uri(
            Aws.ACCOUNT_ID, Aws.REGION, config.repository_name, Aws.URL_SUFFIX
        )
        repo_arn = repository_arn(self, config.repository_name)

        # synth: `cdk synth -c version=<commit>`; the pipeline then updates itself from it
        synth = pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            install_commands=steps.install_commands(p),
            commands=[*steps.SYNTH, *steps.PLAN],
            role_policy_statements=steps.kit_source_policies(p) or None,
            # the account and region the image URIs name (a pym-config without aws_account)
            env={
                "COMMIT_ID": commit,
                "CDK_DEFAULT_ACCOUNT": Aws.ACCOUNT_ID,
                "CDK_DEFAULT_REGION": Aws.REGION,
            },
            primary_output_directory="cdk.out",
        )
        self.synth_step = synth
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=config.stack_name(names.PIPELINE_INFIX),
            synth=synth,
            artifact_bucket=self.artifacts.bucket,
            pipeline_type=codepipeline.PipelineType.V2,
            self_mutation=True,
            publish_assets_in_parallel=False,
            cli_version=steps.CDK_CLI_VERSION,
            cdk_assets_cli_version=steps.CDK_ASSETS_VERSION,
            code_build_defaults=steps.code_build_defaults(self.build_logs),
        )

        # staging: unit tests, then image build + push (the tag: the commit), deploy, test
        self.unit_tests = steps.step(
            "UnitTests", self.source, steps.unit_test_commands(p), config=p
        )
        self.image = steps.step(
            "Image",
            self.source,
            steps.IMAGE,
            config=p,
            env={"COMMIT_ID": commit, "REPOSITORY_URI": repo_uri},
            privileged=True,  # the only privileged project: it runs docker build
            policies=steps.step_policies(steps.IMAGE, repo_arn),
        )
        self.image.add_step_dependency(self.unit_tests)
        self.staging = ServiceStage(
            self,
            "Staging",
            config=config,
            stage="staging",
            image=image,
            version=version,
            env=stage_env,
        )
        self.acceptance = steps.step(
            "AcceptanceTests",
            self.source,
            steps.ACCEPTANCE,
            config=p,
            env={"PYM_ENV": "staging"},
            env_from_cfn_outputs={"STAGING_URL": self.staging.service.public_url},
            variables=steps.secret_variables(config.stages["staging"].secrets),
            partial_build_spec=steps.REPORTS,
        )
        self.pipeline.add_stage(
            self.staging, pre=[self.unit_tests, self.image], post=[self.acceptance]
        )

        # live: [approval], tag the tested image live-<commit>, deploy it, smoke test
        live_pre: list[pipelines.Step] = []
        self.approval = None
        if p.manual_approval:
            self.approval = pipelines.ManualApprovalStep(
                "Approve", comment=f"Promote {config.name} from staging to live?"
            )
            live_pre.append(self.approval)
        self.scan_gate = steps.step(
            "ImageScanGate",
            self.source,
            steps.SCAN_GATE,
            config=p,
            env={"COMMIT_ID": commit, "REPOSITORY_URI": repo_uri},
            policies=steps.step_policies(steps.SCAN_GATE, repo_arn),
        )
        live_pre.insert(0, self.scan_gate)
        if self.approval:
            self.approval.add_step_dependency(self.scan_gate)
        self.promote = steps.step(
            "PromoteImage",
            self.source,
            steps.PROMOTE,
            config=p,
            env={"COMMIT_ID": commit, "REPOSITORY_URI": repo_uri},
            policies=steps.step_policies(steps.PROMOTE, repo_arn),
        )
        self.promote.add_step_dependency(self.approval or self.scan_gate)
        live_pre.append(self.promote)
        self.live = ServiceStage(
            self,
            "Live",
            config=config,
            stage="live",
            image=image,
            version=version,
            env=stage_env,
        )
        self.smoke = steps.step(
            "SmokeTest",
            self.source,
            steps.SMOKE,
            config=p,
            env={"COMMIT_ID": commit},
            env_from_cfn_outputs={"LIVE_URL": self.live.service.public_url},
        )
        self.pipeline.add_stage(self.live, pre=live_pre, post=[self.smoke])

        self.pipeline.build_pipeline()
        steps.grant_connection_use(self.pipeline, p.connection_arn)
        self.topic = steps.notification_topic(self, "Notifications", p.notification_email)
        self.pipeline.pipeline.notify_on(
            "Notify",
            self.topic,
            events=[
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
                codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_SUCCEEDED,
                codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
            ],
        )
        CfnOutput(self, names.PIPELINE_NAME_OUTPUT, value=self.pipeline.pipeline.pipeline_name)
        CfnOutput(self, names.SOURCE_OUTPUT, value=p.source_label)
        CfnOutput(self, names.NOTIFICATION_TOPIC_OUTPUT, value=self.topic.topic_arn)
        acknowledge_generated(self, self.pipeline, self.artifacts.bucket, self.image,
                              codeartifact=p.codeartifact is not None)  # fmt: skip
        join_to_sub(self, self.pipeline.pipeline.node.default_child)


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
