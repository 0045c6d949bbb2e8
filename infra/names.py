"""Every AWS name of a service, and the one reader of its stacks' outputs.

The stacks, the commands (``pym deploy``, ``pym image push --registry ecr``, ``pym status``...)
and the pipeline all take their names from here, so a name is decided once:

- construct ids (what ``cdk deploy`` takes): ``PymService-<part>`` (:func:`cdk_id`);
- CloudFormation stacks: ``<name>-<part>`` (:func:`stack_name`); the pipeline's stages use the
  prefix ``<name>-pipeline`` (:func:`pipeline_prefix`) for their stacks, environments,
  queues and tables, so they never collide with direct deploys;
- Beanstalk environments: the stage stack's name (:func:`environment_name`); queues
  ``<prefix>-<stage>-tasks`` and ``...-dlq``; tables ``<prefix>-<stage>-<table>``;
- the ECR repository and the Beanstalk application: the service name; the repository's
  URI/ARN and an image's URI (:func:`repository_uri`, :func:`repository_arn`, :func:`image_uri`);
- stack outputs (the ``*_OUTPUT`` keys the stacks write) and :func:`read_outputs`, the one
  reader of a deployed stack's outputs (``pym deploy``, ``pym image``, ``pym status``...).

:class:`Names` and :class:`Target` gather them for one service (``pym status|logs|rollback``
take a *target*: ``staging``, ``live``, ``pipeline-staging``, ``pipeline-live``).
No CDK import at module level: the commands use it without the CDK installed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pymacaron.exceptions import StartupError

if TYPE_CHECKING:
    from constructs import IConstruct

    from .config import ServiceConfig

# A described CloudFormation stack (DescribeStacks' JSON)
StackDescription = dict[str, Any]


class CloudFormation(Protocol):
    """What is read of a boto3 CloudFormation client."""

    def describe_stacks(self, *, StackName: str) -> Mapping[str, Any]: ...


CDK_PREFIX = "PymService"
PIPELINE_INFIX = "pipeline"
SHARED = "shared"
NETWORK = "network"

# Beanstalk streams instance logs to /aws/elasticbeanstalk/<environment>/<file path>, one
# stream per instance id (aws:elasticbeanstalk:cloudwatch:logs StreamLogs, infra/beanstalk.py).
LOG_GROUP_ROOT = "/aws/elasticbeanstalk"

# Stack outputs (their construct ids in the templates: keep them stable).
REPOSITORY_URI_OUTPUT = "RepositoryUri"
REPOSITORY_NAME_OUTPUT = "RepositoryName"
APPLICATION_NAME_OUTPUT = "ApplicationName"
ENVIRONMENT_NAME_OUTPUT = "EnvironmentName"
ENVIRONMENT_URL_OUTPUT = "EnvironmentUrl"
ENDPOINT_URL_OUTPUT = "EndpointUrl"
ALARM_TOPIC_OUTPUT = "AlarmTopicArn"
SERVICE_URL_OUTPUT = "ServiceUrl"
IMAGE_OUTPUT = "Image"
PIPELINE_NAME_OUTPUT = "PipelineName"
SOURCE_OUTPUT = "Source"
NOTIFICATION_TOPIC_OUTPUT = "NotificationTopicArn"


# ---- image tags --------------------------------------------------------------------------

# An image tag (ECR's and Docker's rule): what `pym image`, `-c version=` and `pym rollback` take.
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
LIVE_TAG_PREFIX = "live-"  # what promotion adds to a live image (the ECR lifecycle keeps them)


def live_tag(tag: str) -> str:
    """The tag ``pym image promote`` (and ``pym deploy live``) gives the tested image."""
    return f"{LIVE_TAG_PREFIX}{tag}"


# ---- stacks and environments ------------------------------------------------------------


def cdk_id(part: str) -> str:
    """The construct id ``cdk deploy`` takes: ``PymService-staging``."""
    return f"{CDK_PREFIX}-{part}"


def stack_name(service: str, part: str) -> str:
    """CloudFormation stack names carry the service name: ``petshop-staging``."""
    return f"{service}-{part}"


def pipeline_prefix(service: str) -> str:
    """Name prefix of pipeline-managed stacks/environments: ``petshop-pipeline``."""
    return stack_name(service, PIPELINE_INFIX)


def environment_name(prefix: str, stage: str) -> str:
    """A stage's Beanstalk environment (and stack): ``<prefix>-<stage>``; ``prefix`` is the
    service name, or :func:`pipeline_prefix` for the pipeline's stages."""
    return stack_name(prefix, stage)


def pipeline_local_container(service: str, stage: str) -> str:
    """The container ``pym pipeline local`` runs a stage in."""
    return f"{pipeline_prefix(service)}-local-{stage}"


def network_export(network: str, what: str) -> str:
    """``pym-network-VpcId``: the exports of the shared network stage stacks import."""
    return f"{network}-{what}"


# ---- queues and tables ------------------------------------------------------------------


def queue_name(prefix: str, stage: str) -> str:
    """The task queue of a stage (``with_async: true``): ``<prefix>-<stage>-tasks``."""
    return f"{environment_name(prefix, stage)}-tasks"


def dead_letter_queue_name(queue: str) -> str:
    return f"{queue}-dlq"


def table_name(prefix: str, stage: str, table: str) -> str:
    """The DynamoDB table of an x-persist model: ``<prefix>-<stage>-<table>``."""
    return f"{environment_name(prefix, stage)}-{table}"


# ---- repository and application ---------------------------------------------------------


def repository_name(service: str) -> str:
    """The ECR repository: the service name."""
    return service


def application_name(service: str) -> str:
    """The Beanstalk application: the service name."""
    return service


def registry_host(account: str, region: str, suffix: str | None = None) -> str:
    """``ACCOUNT.dkr.ecr.REGION.amazonaws.com`` (``suffix``: e.g. CDK's ``Aws.URL_SUFFIX``)."""
    if suffix is None:
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def repository_uri(account: str, region: str, repository: str, suffix: str | None = None) -> str:
    return f"{registry_host(account, region, suffix)}/{repository}"


def image_uri(account: str, region: str, repository: str, tag: str) -> str:
    return f"{repository_uri(account, region, repository)}:{tag}"


def repository_arn(scope: IConstruct, repository: str) -> str:
    """The ARN of the service's repository, by name (no cross-stack export to pin it)."""
    from aws_cdk import Stack

    arn: str = Stack.of(scope).format_arn(
        service="ecr", resource="repository", resource_name=repository
    )
    return arn


def application_arn(scope: IConstruct, application: str) -> str:
    from aws_cdk import Stack

    arn: str = Stack.of(scope).format_arn(
        service="elasticbeanstalk", resource="application", resource_name=application
    )
    return arn


def environment_arn(scope: IConstruct, application: str, environment: str) -> str:
    from aws_cdk import Stack

    arn: str = Stack.of(scope).format_arn(
        service="elasticbeanstalk",
        resource="environment",
        resource_name=f"{application}/{environment}",
    )
    return arn


def log_groups_arn(scope: IConstruct, environment: str) -> str:
    """Every log group Beanstalk streams an environment's logs to (``.../<environment>/*``)."""
    from aws_cdk import ArnFormat, Stack

    arn: str = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{LOG_GROUP_ROOT}/{environment}/*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    return arn


# ---- reading a deployed stack -----------------------------------------------------------


def find_stack(cfn: CloudFormation, name: str, missing_ok: bool = True) -> StackDescription | None:
    """The CloudFormation stack ``name`` (DescribeStacks), or None when it does not exist
    (``missing_ok``) or was deleted. Other errors (botocore's) propagate to the caller."""
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as e:
        error = e.response.get("Error", {})
        missing = error.get("Code") == "ValidationError" and "does not exist" in str(
            error.get("Message", "")
        )
        if missing and missing_ok:
            return None
        raise
    alive: list[StackDescription] = [s for s in stacks if s.get("StackStatus") != "DELETE_COMPLETE"]
    return alive[0] if alive else None


def outputs(stack: StackDescription | None) -> dict[str, str]:
    """A described stack's outputs by key (empty for None)."""
    return {o["OutputKey"]: o.get("OutputValue", "") for o in (stack or {}).get("Outputs") or []}


def output(values: dict[str, str], key: str) -> str | None:
    """The output ``key``, else one whose key ends with it (a construct's output inside a
    user's own stack carries its path), else None."""
    if key in values:
        return values[key]
    return next((v for k, v in values.items() if k.endswith(key)), None)


def read_outputs(cfn: CloudFormation, name: str, missing_ok: bool = True) -> dict[str, str] | None:
    """The outputs of the deployed stack ``name``, or None when it does not exist."""
    stack = find_stack(cfn, name, missing_ok)
    return None if stack is None else outputs(stack)


# ---- one service's names, by target (pym status|logs|rollback|url) -------------------

# The container's stdout/stderr on the Docker (Amazon Linux 2/2023) platform.
APP_LOG = "var/log/eb-docker/containers/eb-current-app/stdouterr.log"
# Enhanced health streaming (aws:elasticbeanstalk:cloudwatch:logs:health).
HEALTH_LOG = "environment-health.log"


@dataclass(frozen=True)
class Target:
    """One environment a stage stack created, and every name that goes with it."""

    key: str  # what the user types: staging, live, pipeline-staging, pipeline-live
    stage: str  # staging or live (the pym-config stage, PYM_ENV)
    managed_by: str  # "direct" or "pipeline"
    stack_name: str  # CloudFormation stack
    environment_name: str  # Beanstalk environment (same as the stack name)
    cdk_id: str  # what `cdk deploy` takes for this stack

    @property
    def log_group_prefix(self) -> str:
        return f"{LOG_GROUP_ROOT}/{self.environment_name}/"

    @property
    def app_log_group(self) -> str:
        return self.log_group_prefix + APP_LOG

    @property
    def health_log_group(self) -> str:
        return self.log_group_prefix + HEALTH_LOG


@dataclass(frozen=True)
class Names:
    config: ServiceConfig  # infra/config.py

    @property
    def service(self) -> str:
        return self.config.name

    @property
    def shared_stack(self) -> str:
        return self.config.stack_name(SHARED)

    @property
    def repository(self) -> str:
        return self.config.repository_name

    @property
    def application(self) -> str:
        return self.config.application_name

    @property
    def pipeline_stack(self) -> str | None:
        return self.config.stack_name(PIPELINE_INFIX) if self.config.pipeline else None

    @property
    def pipeline_name(self) -> str | None:
        """CodePipeline's name (``pipeline_name=`` in infra/stacks/pipeline.py)."""
        return self.pipeline_stack

    def targets(self) -> list[Target]:
        """Direct stages, then pipeline-managed ones when pym-config has ``pipeline:``."""
        from .config import STAGES

        out = [self._direct(s) for s in STAGES]
        if self.config.pipeline:
            out += [self._pipeline(s) for s in STAGES]
        return out

    def _direct(self, stage: str) -> Target:
        name = environment_name(self.service, stage)
        return Target(stage, stage, "direct", name, name, cdk_id(stage))

    def _pipeline(self, stage: str) -> Target:
        name = environment_name(self.config.pipeline_prefix, stage)
        construct = f"{cdk_id(PIPELINE_INFIX)}/{stage.capitalize()}/Service"
        return Target(f"{PIPELINE_INFIX}-{stage}", stage, "pipeline", name, name, construct)

    def target(self, key: str) -> Target:
        """The target a STAGE argument names; a bad one is a StartupError listing the choices."""
        for t in self.targets():
            if key in (t.key, t.environment_name):
                return t
        if key.startswith(f"{PIPELINE_INFIX}-") and not self.config.pipeline:
            raise StartupError(
                f"stage {key!r} is pipeline-managed, but pym-config has no 'pipeline:' section",
                file=self.config.path,
                location="key 'pipeline'",
            )
        choices = ", ".join(t.key for t in self.targets())
        raise StartupError(f"unknown stage {key!r}: expected one of {choices}")

    def alternative(self, target: Target) -> Target | None:
        """The same stage deployed the other way (direct <-> pipeline), if configured."""
        for t in self.targets():
            if t.stage == target.stage and t.managed_by != target.managed_by:
                return t
        return None

    def create_command(self, target: Target) -> str:
        """The command that creates a target's stack (docs/deploy.md, docs/pipeline.md)."""
        if target.managed_by == "pipeline":
            return self.pipeline_create_command()
        return f"pym deploy {target.stage} --version VERSION"

    def pipeline_create_command(self) -> str:
        branch = self.config.pipeline.branch if self.config.pipeline else "BRANCH"
        return f"cdk deploy {cdk_id(PIPELINE_INFIX)} (once), then git push to {branch}"
