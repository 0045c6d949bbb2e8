"""The pipeline's building blocks: source, storage, logs, notifications and the steps.

Every step runs ``pym ...`` in the service's repository -- the same command a developer
runs by hand (docs/pipeline.md); the buildspecs hold no other logic. The image tag is the commit id of
the source revision (the source action's ``CommitId`` variable): the synth step passes it
as ``-c version=<commit>`` (so both stage stacks deploy that tag), the image step builds
and pushes ``<repository>:<commit>``, live deploys the same application version source
(no rebuild) after ``pym image promote`` tagged it ``live-<commit>``.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from .cdk_cli import CDK_CLI_VERSION  # noqa: F401 - the CLI self-mutation installs
from .config import PipelineConfig, SecretRef
from .nag import acknowledge
from .retention import retention_days
from .service_repo import DEFAULT_UNIT_TESTS

# CodeBuild's Ubuntu standard image: python 3.11 and node 22 via runtime-versions.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "22"}

# The commands of each step: the service's requirements (pymacaron[kit] pinned there; pip
# honours PIP_FIND_LINKS / PIP_INDEX_URL), then `pym`, nothing else.
INSTALL = ["pip install -q -r requirements.txt", "pym --help > /dev/null"]
SYNTH = ['pym synth --version "$COMMIT_ID"']
# A re-run of a commit finds <repository>:<commit> in ECR (immutable tags): no rebuild.
IMAGE = [
    'pym image build --tag "$COMMIT_ID" --unless-in "$REPOSITORY_URI"',
    'pym image push "$COMMIT_ID" --registry "$REPOSITORY_URI"',
]
ACCEPTANCE = [
    'pym acceptance --url "$STAGING_URL" --env staging --junit reports/acceptance.xml',
    'pym fuzz --url "$STAGING_URL" --env staging --junit reports/fuzz.xml',
]
PROMOTE = ['pym image promote "$COMMIT_ID" --registry "$REPOSITORY_URI"']
SMOKE = ['pym smoke --url "$LIVE_URL" --version "$COMMIT_ID"']


def unit_test_commands(config: PipelineConfig) -> list[str]:
    """The unit-test step: the repository's own test command (pipeline.unit_tests)."""
    return [config.unit_tests or DEFAULT_UNIT_TESTS]


REPORTS = {
    "reports": {
        "acceptance": {
            "files": ["acceptance.xml", "fuzz.xml"],
            "base-directory": "reports",
            "file-format": "JUNITXML",
        }
    }
}

ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]
ECR_PROMOTE_ACTIONS = ["ecr:BatchGetImage", "ecr:PutImage", "ecr:DescribeImages"]


def pipeline_source(scope: Construct, config: PipelineConfig) -> pipelines.CodePipelineSource:
    """The source action: a CodeConnections repository, or a CodeCommit one (every push)."""
    if config.codecommit_repository:
        repo = codecommit.Repository.from_repository_name(
            scope, "SourceRepository", config.codecommit_repository
        )
        return pipelines.CodePipelineSource.code_commit(repo, config.branch)
    return pipelines.CodePipelineSource.connection(
        config.repository,
        config.branch,
        connection_arn=config.connection_arn,
        trigger_on_push=True,
    )


def repository_uri(repository_name: str) -> str:
    """``<account>.dkr.ecr.<region>.<suffix>/<name>``, resolved at deploy time."""
    return f"{Aws.ACCOUNT_ID}.dkr.ecr.{Aws.REGION}.{Aws.URL_SUFFIX}/{repository_name}"


def secret_variables(secrets: tuple[SecretRef, ...]) -> dict:
    """CodeBuild environment variables read by reference from SSM / Secrets Manager."""
    out = {}
    for ref in secrets:
        if ref.service == "secretsmanager":
            out[ref.env_name] = codebuild.BuildEnvironmentVariable(
                type=codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER, value=ref.arn
            )
        else:
            name = ref.parameter_name or "/" + ref.arn.split(":parameter/", 1)[1]
            out[ref.env_name] = codebuild.BuildEnvironmentVariable(
                type=codebuild.BuildEnvironmentVariableType.PARAMETER_STORE, value=name
            )
    return out


class ArtifactStore(Construct):
    """The pipeline's artifact bucket: KMS (own key, rotated), TLS only, private, logged."""

    def __init__(self, scope: Construct, id: str):
        super().__init__(scope, id)
        # Access logs are delivered under a bucket policy, not the legacy ACL.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.key = kms.Key(
            self,
            "Key",
            description="pipeline artifacts (pymacaron)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This bucket receives the artifact bucket's access logs and logging it into "
            "itself or another bucket would only recurse.",
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))],
            removal_policy=RemovalPolicy.RETAIN,
        )


def build_log_group(scope: Construct, id: str, days: int) -> logs.LogGroup:
    """One log group for every CodeBuild project of the pipeline, with a retention."""
    return logs.LogGroup(
        scope, id, retention=retention_days(days), removal_policy=RemovalPolicy.RETAIN
    )


def notification_topic(scope: Construct, id: str, email: str | None) -> sns.Topic:
    topic = sns.Topic(scope, id, display_name="pipeline notifications", enforce_ssl=True)
    if email:
        topic.add_subscription(subs.EmailSubscription(email))
    return topic


def code_build_defaults(log_group: logs.ILogGroup) -> pipelines.CodeBuildOptions:
    return pipelines.CodeBuildOptions(
        build_environment=codebuild.BuildEnvironment(
            build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.SMALL
        ),
        partial_build_spec=codebuild.BuildSpec.from_object(
            {"phases": {"install": {"runtime-versions": RUNTIME_VERSIONS}}}
        ),
        logging=codebuild.LoggingOptions(
            cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
        ),
        timeout=Duration.minutes(60),
    )


def step(
    id: str,
    source: pipelines.CodePipelineSource,
    commands: list[str],
    *,
    env: dict | None = None,
    env_from_cfn_outputs: dict | None = None,
    policies: list[iam.PolicyStatement] | None = None,
    privileged: bool = False,
    variables: dict | None = None,
    partial_build_spec: dict | None = None,
) -> pipelines.CodeBuildStep:
    """A CodeBuild step on the source checkout: install the requirements, then `pym`."""
    return pipelines.CodeBuildStep(
        id,
        input=source,
        install_commands=list(INSTALL),
        commands=list(commands),
        env=env or {},
        env_from_cfn_outputs=env_from_cfn_outputs,
        role_policy_statements=policies,
        build_environment=codebuild.BuildEnvironment(
            build_image=BUILD_IMAGE,
            compute_type=codebuild.ComputeType.SMALL,
            privileged=privileged,
            environment_variables=variables or {},
        ),
        partial_build_spec=(
            codebuild.BuildSpec.from_object(partial_build_spec) if partial_build_spec else None
        ),
    )
