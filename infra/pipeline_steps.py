"""The pipeline's building blocks: source, storage, logs, notifications and the steps.

Every step runs ``pym ...`` in the service's repository -- the same command a developer
runs by hand (docs/pipeline.md); the buildspecs hold no other logic. The image tag is the commit id of
the source revision (the source action's ``CommitId`` variable): the synth step passes it
as ``-c version=<commit>`` (so both stage stacks deploy that tag), the image step builds
and pushes ``<repository>:<commit>``, live deploys the same application version source
(no rebuild) after ``pym image promote`` tagged it ``live-<commit>``.
"""

from __future__ import annotations

import json
import shlex

from aws_cdk import Aws, Duration, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from . import names, pins
from .config import PipelineConfig, SecretRef
from .nag import acknowledge
from .retention import retention_days
from .service_repo import DEFAULT_UNIT_TESTS
from .step_actions import step_actions

# CodeBuild's Ubuntu standard image: python 3.11 and node 22 via runtime-versions.
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
RUNTIME_VERSIONS = {"python": "3.11", "nodejs": "22"}
# The CDK CLI the self-mutation step installs and the cdk-assets of the asset step, both as
# package.json pins them (infra/pins.py; never @latest).
CDK_CLI_VERSION = pins.CDK_CLI
CDK_ASSETS_VERSION = pins.CDK_ASSETS

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
# Before the approval and the promotion: ECR's scan of the image, against pym-config's
# image_scan thresholds (infra/scan_gate.py).
SCAN_GATE = ['pym image scan-gate --tag "$COMMIT_ID" --repository-uri "$REPOSITORY_URI"']
# After synth: what this commit adds, changes and replaces compared with its parent
# (infra/template_diff.py); a replacement CloudFormation would refuse fails the step here.
PLAN = [
    "if git rev-parse -q --verify HEAD~1 >/dev/null; then pym plan --against HEAD~1; "
    "else echo 'pym plan: no parent commit to compare with'; fi"
]
# Before the install step: pip installs the gates at the versions the repository tests with.
PIN_GATES = pins.constraint_commands()
PROMOTE = ['pym image promote "$COMMIT_ID" --registry "$REPOSITORY_URI"']
# --instance-credentials: the container reads its instance's role (IMDS hop limit 2)
SMOKE = ['pym smoke --url "$LIVE_URL" --version "$COMMIT_ID" --instance-credentials']


def kit_source_commands(config: PipelineConfig) -> list[str]:
    """Before ``pip install``: where pip finds the kit (pipeline.python_index, .wheelhouse,
    .codeartifact), the same in every step."""
    out = []
    if config.codeartifact:
        ca = config.codeartifact
        owner = f" --domain-owner {ca.domain_owner}" if ca.domain_owner else ""
        out.append(
            f"aws codeartifact login --tool pip --domain {ca.domain}{owner} "
            f"--repository {ca.repository}"
        )
    if config.python_index:
        out.append(f"export PIP_INDEX_URL={shlex.quote(config.python_index)}")
    if config.wheelhouse:
        out.append(f'export PIP_FIND_LINKS="$CODEBUILD_SRC_DIR/{config.wheelhouse}"')
    return out


def install_commands(config: PipelineConfig) -> list[str]:
    """Every step's install phase: the pinned gates, the kit's source, the requirements."""
    return [*PIN_GATES, *kit_source_commands(config), *INSTALL]


def kit_source_policies(config: PipelineConfig) -> list[iam.PolicyStatement]:
    """What ``aws codeartifact login`` and pip's reads need (nothing for the others)."""
    ca = config.codeartifact
    if not ca:
        return []
    owner = ca.domain_owner or Aws.ACCOUNT_ID
    domain = f"arn:{Aws.PARTITION}:codeartifact:{Aws.REGION}:{owner}:domain/{ca.domain}"
    repo = f"arn:{Aws.PARTITION}:codeartifact:{Aws.REGION}:{owner}:repository/{ca.domain}/{ca.repository}"
    return [
        iam.PolicyStatement(actions=["codeartifact:GetAuthorizationToken"], resources=[domain]),
        iam.PolicyStatement(
            actions=["codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"],
            resources=[repo],
        ),
        iam.PolicyStatement(
            actions=["sts:GetServiceBearerToken"],
            resources=["*"],
            conditions={"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}},
        ),
    ]


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


def step_policies(commands: list[str], repository_arn: str) -> list[iam.PolicyStatement]:
    """The statements a step's role gets: what its ``pym`` commands call
    (infra/step_actions.py), scoped to the service's repository where IAM allows it."""
    scoped, unscoped = step_actions(commands)
    out = []
    if unscoped:
        out.append(iam.PolicyStatement(actions=unscoped, resources=["*"]))
    if scoped:
        out.append(iam.PolicyStatement(actions=scoped, resources=[repository_arn]))
    return out


def pipeline_source(scope: Construct, config: PipelineConfig) -> pipelines.CodePipelineSource:
    """The source action: a CodeConnections repository, or a CodeCommit one (every push)."""
    if config.codecommit_repository:
        repo = codecommit.Repository.from_repository_name(
            scope, "SourceRepository", config.codecommit_repository
        )
        return pipelines.CodePipelineSource.code_commit(repo, config.branch)
    # A full clone (not a zip) for the CodeBuild steps: `pym plan` compares with HEAD~1.
    return pipelines.CodePipelineSource.connection(
        config.repository,
        config.branch,
        connection_arn=config.connection_arn,
        trigger_on_push=True,
        code_build_clone_output=True,
    )


def connection_actions(connection_arn: str) -> list[str]:
    """IAM's action prefix must match the connection ARN's service prefix."""
    if ":codeconnections:" in connection_arn:
        return ["codeconnections:UseConnection"]
    return ["codestar-connections:UseConnection"]


def grant_connection_use(scope: Construct, connection_arn: str | None) -> int:
    """Grant every role CDK gave ``codestar-connections:UseConnection`` the action its
    connection's ARN needs (``codeconnections:`` for ``arn:aws:codeconnections:`` ones);
    returns how many roles got it."""
    if not connection_arn or ":codeconnections:" not in connection_arn:
        return 0
    stack = Stack.of(scope)
    granted = 0
    for construct in scope.node.find_all():
        if not isinstance(construct, iam.Policy):
            continue
        document = stack.resolve(construct.document.to_json())
        uses = any(
            "codestar-connections:UseConnection" in json.dumps(st.get("Action"))
            for st in document.get("Statement", [])
        )
        if uses:
            construct.add_statements(
                iam.PolicyStatement(
                    actions=connection_actions(connection_arn), resources=[connection_arn]
                )
            )
            granted += 1
    return granted


def repository_uri(repository_name: str) -> str:
    """``<account>.dkr.ecr.<region>.<suffix>/<name>``, resolved at deploy time."""
    return names.repository_uri(Aws.ACCOUNT_ID, Aws.REGION, repository_name, Aws.URL_SUFFIX)


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
    config: PipelineConfig,
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
        install_commands=install_commands(config),
        commands=list(commands),
        env=env or {},
        env_from_cfn_outputs=env_from_cfn_outputs,
        role_policy_statements=[*(policies or []), *kit_source_policies(config)] or None,
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
