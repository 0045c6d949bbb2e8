"""The typed model of pym-config.yaml for deployment: what the CDK stacks and commands take.

Owns the dataclasses (:class:`ServiceConfig`, one :class:`StageConfig` per deployed stage,
:class:`PipelineConfig`, :class:`Network`, :class:`Platform`, :class:`ScanGate`...) and the
kit's constants (the stages, the platform branch, the container port). Their values come
from config.py (loading) through config_rules.py (every cross-key rule); the deploy
defaults are the schema's ``"default"`` (pym-config.schema.json), read here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pymacaron.config import DEFAULTS as RUNTIME_DEFAULTS
from pymacaron.config import deploy_keys, schema_default, schema_defaults

from . import names

__all__ = [
    "CONTAINER_PORT",
    "DEFAULTS",
    "HEALTH_CHECK_PATH",
    "MAX_ENVIRONMENT_NAME",
    "PIPELINE_INFIX",
    "PLATFORM_BRANCH",
    "SEVERITIES",
    "STAGES",
    "BeanstalkOption",
    "CodeArtifact",
    "HostedZone",
    "Network",
    "PipelineConfig",
    "Platform",
    "ScanGate",
    "SecretRef",
    "ServiceConfig",
    "StageConfig",
]

# The stages a service is deployed to, in promotion order.
STAGES = ("staging", "live")

# The Beanstalk platform branch environments run on. Its versions are named by ARN (updatable
# in place, unlike a solution stack name); `pym platform refresh` records the current one in
# cdk.context.json (infra/platform.py).
PLATFORM_BRANCH = "Docker running on 64bit Amazon Linux 2023"

# Deploy defaults (aws_instance_type t3.small, 1 to 2 hosts, Immutable, 30 days of logs):
# written once, in pym-config.schema.json (``"default"``), as the runtime's are.
DEFAULTS = {k: v for k, v in schema_defaults().items() if k in deploy_keys()}

# The port the container listens on ($PORT in the image, docker/ contract).
CONTAINER_PORT = 8080
HEALTH_CHECK_PATH = "/ping"


def _given(name: str, doc: str) -> property:
    """A read-only flag of a config dataclass: whether its optional field ``name`` is set."""

    def flag(self: object) -> bool:
        return getattr(self, name) is not None

    return property(flag, doc=doc)


@dataclass(frozen=True)
class Platform:
    """The Beanstalk platform: a solution stack name, a platform ARN, or neither (the
    branch's version recorded in cdk.context.json, infra/platform.py)."""

    solution_stack: str | None = None
    platform_arn: str | None = None


@dataclass(frozen=True)
class Network:
    """Create a VPC (``vpc_id`` None) or use an existing one by id and subnet ids."""

    vpc_id: str | None = None
    public_subnets: tuple[str, ...] = ()
    private_subnets: tuple[str, ...] = ()
    # defaults: the schema's (``vpc.*``)
    max_azs: int = schema_default("vpc", "max_azs")
    nat_gateways: int = schema_default("vpc", "nat_gateways")
    # A created network is shared by every service of the account and region (VPC and
    # Elastic IP quotas): the stack `pym-network` unless `vpc.name` names another one.
    name: str = schema_default("vpc", "name")
    cidr: str = schema_default("vpc", "cidr")

    existing = _given("vpc_id", "An existing VPC is used (``vpc_id`` given), none created.")


@dataclass(frozen=True)
class SecretRef:
    """Where one environment secret lives on AWS (never its value)."""

    env_name: str
    service: str  # "ssm" or "secretsmanager"
    arn: str | None = None  # a full ARN, or None for an SSM parameter given by name
    parameter_name: str | None = None  # "/petshop/jwt-secret" (same account and region)


@dataclass(frozen=True)
class HostedZone:
    """A Route 53 hosted zone where the stage's host name gets an alias record."""

    zone_id: str
    zone_name: str


@dataclass(frozen=True)
class StageConfig:
    """One deployed stage (staging or live) with its overrides applied."""

    stage: str
    instance_type: str
    hosts_min: int
    hosts_max: int
    cert_arn: str | None
    live_host: str | None
    deployment_policy: str
    notification_email: str | None
    log_retention_days: int
    secrets: tuple[SecretRef, ...]
    env: dict = field(default_factory=dict)
    hosted_zone: HostedZone | None = None
    # the service's own body limit, which the platform's nginx keeps too (proxy.py)
    max_body_size: int = RUNTIME_DEFAULTS["max_body_size"]
    # The stage's view of pym-config.yaml (``stages.<stage>`` applied), read once by
    # load_service_config: the task queue and tables take their values from it
    # (infra/task_queue.py, infra/tables.py).
    data: dict = field(default_factory=dict, compare=False, repr=False)
    # ``beanstalk_options:`` (the stage's list replaces the top-level one), checked by
    # config_rules.beanstalk_options_of
    beanstalk_options: tuple[BeanstalkOption, ...] = ()

    https = _given("cert_arn", "The stage serves HTTPS (a certificate, ``cert_arn``, given).")


@dataclass(frozen=True)
class BeanstalkOption:
    """One option setting of the environment: ``aws:elasticbeanstalk:xray XRayEnabled true``."""

    namespace: str
    option: str
    value: str

    def as_tuple(self) -> tuple[str, str, str]:
        return (self.namespace, self.option, self.value)


@dataclass(frozen=True)
class CodeArtifact:
    """``pipeline.codeartifact``: the CodeArtifact repository CodeBuild's pip logs in to."""

    domain: str
    repository: str
    domain_owner: str | None = None


@dataclass(frozen=True)
class PipelineConfig:
    """``pipeline:``: where the source lives and how a push reaches live (infra/pipeline_steps.py)."""

    branch: str
    manual_approval: bool
    notification_email: str | None
    connection_arn: str | None = None  # CodeStar/CodeConnections connection + owner/repo
    repository: str | None = None
    codecommit_repository: str | None = None  # or a CodeCommit repository name
    unit_tests: str | None = None  # the unit-test step's command (None: pytest tests/)
    # where CodeBuild's pip gets the kit (docs/pipeline.md, "Where the kit comes from")
    python_index: str | None = None  # PIP_INDEX_URL
    wheelhouse: str | None = None  # a repository directory of wheels: PIP_FIND_LINKS
    codeartifact: CodeArtifact | None = None

    @property
    def kit_source(self) -> str | None:
        """Where the kit comes from in CodeBuild, said in words; None when nothing says."""
        found = []
        if self.codeartifact:
            found.append(f"CodeArtifact {self.codeartifact.domain}/{self.codeartifact.repository}")
        if self.python_index:
            found.append(f"the index {self.python_index}")
        if self.wheelhouse:
            found.append(f"the repository's {self.wheelhouse}/")
        return " + ".join(found) or None

    @property
    def placeholder_connection(self) -> bool:
        """The connection ARN ``pym new`` writes (all-zero id, the documentation account)."""
        arn = self.connection_arn or ""
        return arn.endswith("/00000000-0000-0000-0000-000000000000") or ":123456789012:" in arn

    @property
    def source_label(self) -> str:
        if self.codecommit_repository:
            return f"codecommit:{self.codecommit_repository}@{self.branch}"
        return f"{self.repository}@{self.branch}"


# Image scan severities, most severe first (ECR basic and enhanced scanning).
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED")


@dataclass(frozen=True)
class ScanGate:
    """``image_scan:``: how many findings of each severity promotion tolerates.

    A severity missing from ``max_findings`` is unlimited; the default lets no CRITICAL
    finding through. ``allow: true`` (or ``pym image scan-gate --allow-findings``) lets a
    known finding pass, saying so in the log.
    """

    # defaults: the schema's (``image_scan.*``)
    max_findings: dict = field(default_factory=lambda: schema_default("image_scan", "max_findings"))
    allow: bool = schema_default("image_scan", "allow")
    timeout_seconds: int = schema_default("image_scan", "timeout_seconds")


# Pipeline-managed stage stacks and environments: <name>-pipeline-<stage> (distinct from the
# direct-deploy <name>-<stage>, so both can exist in one account without colliding).
# Every name is built in infra/names.py.
PIPELINE_INFIX = names.PIPELINE_INFIX
# Beanstalk environment names are 4 to 40 characters.
MAX_ENVIRONMENT_NAME = 40


@dataclass(frozen=True)
class ServiceConfig:
    """Everything the CDK stacks need, read from one pym-config.yaml."""

    path: str
    name: str
    region: str | None
    account: str | None
    platform: Platform
    network: Network
    env_secrets: tuple[str, ...]
    stages: dict[str, StageConfig]
    pipeline: PipelineConfig | None = None
    scan_gate: ScanGate = field(default_factory=lambda: ScanGate())
    # `cdk bootstrap --qualifier Q`: every stack deploys through that bootstrap's roles.
    bootstrap_qualifier: str | None = None

    @property
    def pipeline_prefix(self) -> str:
        """Name prefix of pipeline-managed stacks/environments: ``petshop-pipeline``."""
        return names.pipeline_prefix(self.name)

    @property
    def repository_name(self) -> str:
        return names.repository_name(self.name)

    @property
    def application_name(self) -> str:
        return names.application_name(self.name)

    def stack_name(self, part: str) -> str:
        """CloudFormation stack names carry the service name: ``petshop-staging``."""
        return names.stack_name(self.name, part)

    def environment_name(self, stage: str) -> str:
        return names.environment_name(self.name, stage)
