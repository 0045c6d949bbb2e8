"""The deploy-time view of pym-config.yaml: a typed model over the runtime's one loader.

``load_service_config(path)`` parses and validates the file with
:func:`pymacaron.config.read_config_file` (the same JSON Schema the service reads at
start-up), applies ``stages.<stage>`` overrides with :func:`pymacaron.config.apply_stage`,
fills the deploy defaults below and checks what only makes sense on AWS (every name in
``env_secrets`` has a ``secrets:`` reference in every deployed stage, min <= max hosts).
Errors are :class:`pymacaron.exceptions.StartupError` naming the file and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from pymacaron.config import DEFAULTS as RUNTIME_DEFAULTS
from pymacaron.config import (
    ConfigData,
    apply_stage,
    config_schema,
    deploy_keys,
    read_config_file,
    schema_defaults,
    stage_file,
)
from pymacaron.exceptions import StartupError
from pymacaron.spec.yamlfile import display_path

from . import names

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
    max_azs: int = 2
    nat_gateways: int = 1
    # A created network is shared by every service of the account and region (VPC and
    # Elastic IP quotas): the stack `pym-network` unless `vpc.name` names another one.
    name: str = "pym-network"
    cidr: str = "10.0.0.0/16"

    @property
    def existing(self) -> bool:
        return self.vpc_id is not None


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
    env: dict[str, str] = field(default_factory=dict)
    hosted_zone: HostedZone | None = None
    # the service's own body limit, which the platform's nginx keeps too (proxy.py)
    max_body_size: int = RUNTIME_DEFAULTS["max_body_size"]
    # The stage's view of pym-config.yaml (``stages.<stage>`` applied), read once by
    # load_service_config: the task queue, tables and beanstalk_options take their values
    # from it (infra/task_queue.py, infra/tables.py, infra/beanstalk_options.py).
    data: ConfigData = field(default_factory=dict, compare=False, repr=False)

    @property
    def https(self) -> bool:
        return self.cert_arn is not None


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

    max_findings: dict[str, int] = field(default_factory=lambda: {"CRITICAL": 0})
    allow: bool = False
    timeout_seconds: int = 900


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


def _fail(path: str, key: str, message: str) -> StartupError:
    return StartupError(message, file=display_path(path), location=f"key '{key}'")


def _secret_ref(env_name: str, ref: str) -> SecretRef:
    """Where a reference lives. Its form is the schema's rule (``definitions.secret_ref``):
    read_config_file already refused anything else, a pasted secret value included."""
    if ref.startswith("/"):
        return SecretRef(env_name, "ssm", parameter_name=ref)
    # arn:<partition>:<ssm|secretsmanager>:<region>:<account>:<resource...>
    return SecretRef(env_name, ref.split(":")[2], arn=ref)


def _stage_config(
    path: str, raw: ConfigData, stage: str, env_secrets: tuple[str, ...]
) -> StageConfig:
    data = apply_stage(raw, stage)
    merged = {**DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
    stage_keys = (raw.get("stages") or {}).get(stage) or {}

    def where(key: str) -> str:
        return f"stages.{stage}.{key}" if key in stage_keys else key

    hosts_min, hosts_max = merged["aws_hosts_min"], merged["aws_hosts_max"]
    if hosts_min > hosts_max:  # the one check of this rule (the runtime does not read sizes)
        set_here = [k for k in ("aws_hosts_min", "aws_hosts_max") if k in stage_keys]
        raise _fail(
            path,
            where(set_here[0]) if set_here else "aws_hosts_min",
            (f"stage {stage}: " if set_here else "")
            + f"aws_hosts_min ({hosts_min}) is larger than aws_hosts_max ({hosts_max})",
        )
    secrets_map = merged.get("secrets") or {}
    missing = [n for n in env_secrets if n not in secrets_map]
    if missing:
        raise _fail(
            path,
            where("secrets") if "secrets" in stage_keys else "secrets",
            f"stage {stage}: every name in env_secrets needs a reference under 'secrets:' "
            f"(ENV_NAME: SSM parameter name or Secrets Manager/SSM ARN); missing: "
            + ", ".join(missing),
        )
    # `{stage}` in a reference names one secret per stage: /petshop/{stage}/jwt-secret.
    secrets = tuple(
        _secret_ref(n, str(ref).replace("{stage}", stage)) for n, ref in secrets_map.items()
    )
    # The top-level live_host, aws_cert_arn and hosted_zone name live; another stage has a
    # host (and a certificate for it) only if it sets its own: a certificate for live's
    # name on staging's load balancer would not match its URL.
    own = merged if stage == "live" else stage_keys
    live_host, cert_arn = own.get("live_host"), own.get("aws_cert_arn")
    if live_host and not cert_arn:
        raise _fail(
            path,
            where("live_host"),
            f"stage {stage}: a host name ({live_host}) is served over HTTPS and needs its "
            f"certificate: set {where('aws_cert_arn') if stage != 'live' else 'aws_cert_arn'} "
            "(an ACM certificate ARN for that name, in the stack's region)",
        )
    if cert_arn and not live_host:
        raise _fail(
            path,
            where("aws_cert_arn"),
            f"stage {stage}: a certificate needs the host name it was issued for "
            f"(set {'live_host' if stage == 'live' else where('live_host')}); without one "
            "the stage is served on its load balancer's own name, over HTTP",
        )
    zone = own.get("hosted_zone")
    hosted_zone = None
    if zone is not None:
        if not live_host:
            raise _fail(path, where("hosted_zone"), f"stage {stage}: a hosted zone needs live_host")
        host = _host_name(live_host)
        name = zone["name"].rstrip(".")
        if host != name and not host.endswith("." + name):
            raise _fail(
                path,
                where("hosted_zone") + ".name",
                f"stage {stage}: expected a zone that contains {host}, got {name}",
            )
        if host == name:
            raise _fail(
                path,
                where("live_host"),
                f"stage {stage}: {host} is the zone apex, where DNS allows no CNAME: "
                "use a name inside the zone (api.example.com)",
            )
        hosted_zone = HostedZone(zone_id=zone["id"], zone_name=name)
    return StageConfig(
        stage=stage,
        instance_type=merged["aws_instance_type"],
        hosts_min=hosts_min,
        hosts_max=hosts_max,
        cert_arn=cert_arn,
        live_host=live_host,
        hosted_zone=hosted_zone,
        deployment_policy=merged["deployment_policy"],
        notification_email=merged.get("notification_email"),
        log_retention_days=merged["log_retention_days"],
        secrets=secrets,
        env={k: str(v) for k, v in (merged.get("env") or {}).items()},
        max_body_size=merged.get("max_body_size") or RUNTIME_DEFAULTS["max_body_size"],
    )


def _host_name(live_host: str) -> str:
    """``https://api.example.com/`` -> ``api.example.com``."""
    return live_host.split("://", 1)[-1].split("/", 1)[0].lower()


def _check_secrets_per_stage(path: str, raw: ConfigData, stages: dict[str, StageConfig]) -> None:
    """Staging and live must not share a secret (staging's tests send its tokens over HTTP)."""
    shared_ok = set(raw.get("shared_secrets") or ())
    staging = {s.env_name: s for s in stages["staging"].secrets}
    for ref in stages["live"].secrets:
        other = staging.get(ref.env_name)
        if other and other == ref and ref.env_name not in shared_ok:
            where = ref.parameter_name or ref.arn
            raise _fail(
                path,
                f"secrets.{ref.env_name}",
                f"staging and live share {where}: a token or key staging's tests use would be "
                f"valid on live. Use one per stage ('/{raw['name']}/{{stage}}/...' or "
                f"stages.<stage>.secrets), or list {ref.env_name} under shared_secrets",
            )


def _scan_gate(path: str, raw: ConfigData) -> ScanGate:
    data = raw.get("image_scan") or {}
    limits = data.get("max_findings", {"CRITICAL": 0})
    return ScanGate(
        max_findings={k.upper(): int(v) for k, v in limits.items()},
        allow=bool(data.get("allow", False)),
        timeout_seconds=int(data.get("timeout_seconds", 900)),
    )


def _platform(path: str, raw: ConfigData) -> Platform:
    platform = raw.get("platform") or {}
    if "solution_stack" in platform and "platform_arn" in platform:
        raise _fail(
            path,
            "platform",
            "expected one of 'solution_stack' or 'platform_arn', got both",
        )
    if "platform_arn" in platform:
        return Platform(platform_arn=platform["platform_arn"])
    return Platform(solution_stack=platform.get("solution_stack"))


def _network(path: str, raw: ConfigData) -> Network:
    vpc = raw.get("vpc") or {}
    if "id" not in vpc:
        for key in ("public_subnets", "private_subnets"):
            if key in vpc:
                raise _fail(
                    path,
                    f"vpc.{key}",
                    "subnet ids only make sense with an existing VPC: expected 'vpc.id' too",
                )
        if "name" in vpc and "cidr" not in vpc:
            raise _fail(
                path,
                "vpc.cidr",
                f"a network of its own ({vpc['name']}) needs its own address range, not "
                f"overlapping {Network.cidr} of the shared {Network.name}: e.g. 10.1.0.0/16",
            )
        if vpc.get("name", Network.name) != Network.name and vpc.get("cidr") == Network.cidr:
            raise _fail(
                path,
                "vpc.cidr",
                f"{vpc['name']} would overlap the shared {Network.name} ({Network.cidr}): "
                "expected another range, e.g. 10.1.0.0/16",
            )
        return Network(
            max_azs=vpc.get("max_azs", 2),
            nat_gateways=vpc.get("nat_gateways", 1),
            name=vpc.get("name", Network.name),
            cidr=vpc.get("cidr", Network.cidr),
        )
    if not vpc.get("public_subnets"):
        raise _fail(
            path,
            "vpc.public_subnets",
            "an existing VPC needs public subnet ids for the load balancer "
            "(at least two, in different availability zones)",
        )
    return Network(
        vpc_id=vpc["id"],
        public_subnets=tuple(vpc["public_subnets"]),
        private_subnets=tuple(vpc.get("private_subnets") or ()),
    )


def _pipeline(path: str, raw: ConfigData) -> PipelineConfig | None:
    data = raw.get("pipeline")
    if data is None:
        return None
    has_connection = "connection_arn" in data or "repository" in data
    if has_connection and "codecommit_repository" in data:
        raise _fail(
            path,
            "pipeline",
            "expected one source: 'connection_arn' + 'repository' (GitHub, Bitbucket, GitLab "
            "through a CodeConnections connection) or 'codecommit_repository', got both",
        )
    if not has_connection and "codecommit_repository" not in data:
        raise _fail(
            path,
            "pipeline",
            "expected a source: 'connection_arn' + 'repository' (owner/repo) or "
            "'codecommit_repository'",
        )
    if has_connection:
        for key in ("connection_arn", "repository"):
            if key not in data:
                other = "repository" if key == "connection_arn" else "connection_arn"
                raise _fail(
                    path, f"pipeline.{key}", f"'pipeline.{other}' needs 'pipeline.{key}' too"
                )
    if "branch" not in data:
        raise _fail(path, "pipeline.branch", "expected the branch whose pushes deploy (e.g. main)")
    longest = names.environment_name(names.pipeline_prefix(raw["name"]), "staging")
    if len(longest) > MAX_ENVIRONMENT_NAME:
        raise _fail(
            path,
            "name",
            f"with a pipeline, the environment {longest!r} would exceed Beanstalk's "
            f"{MAX_ENVIRONMENT_NAME} characters: use a name of at most "
            f"{MAX_ENVIRONMENT_NAME - len(longest) + len(raw['name'])} characters",
        )
    if "python_index" in data and "codeartifact" in data:
        raise _fail(
            path,
            "pipeline.python_index",
            "expected one index: 'python_index' (a URL) or 'codeartifact', got both",
        )
    wheelhouse = data.get("wheelhouse")
    if wheelhouse:
        wheelhouse = wheelhouse.rstrip("/")
        where = os.path.join(os.path.dirname(path), wheelhouse)
        wheels = os.listdir(where) if os.path.isdir(where) else []
        if not any(w.startswith("pymacaron-") and w.endswith(".whl") for w in wheels):
            raise _fail(
                path,
                "pipeline.wheelhouse",
                f"{wheelhouse}/ holds no pymacaron wheel: pip download 'pymacaron[kit]==VERSION' "
                f"-d {wheelhouse} (or copy the wheels you built), then commit it",
            )
    ca = data.get("codeartifact")
    return PipelineConfig(
        python_index=data.get("python_index"),
        wheelhouse=wheelhouse,
        codeartifact=CodeArtifact(ca["domain"], ca["repository"], ca.get("domain_owner"))
        if ca
        else None,
        branch=data["branch"],
        manual_approval=bool(data.get("manual_approval", False)),
        notification_email=data.get("notification_email") or raw.get("notification_email"),
        connection_arn=data.get("connection_arn"),
        repository=data.get("repository"),
        codecommit_repository=data.get("codecommit_repository"),
        unit_tests=(data.get("unit_tests") or "").strip() or None,
    )


def stage_data(path: str, stage: str) -> ConfigData:
    """pym-config.yaml as ``stage`` sees it (``stages.<stage>`` applied, deploy keys checked):
    what the kit's pieces read when given a file rather than a :class:`ServiceConfig`."""
    return apply_stage(read_config_file(os.path.abspath(path)), stage)


def load_service_config(path: str) -> ServiceConfig:
    """Read pym-config.yaml for deployment; raises StartupError naming the file and key."""
    path = os.path.abspath(path)
    raw = read_config_file(path)
    check_deploy_keys(path, raw)
    check_aws_values(path, raw)
    env_secrets = tuple(raw.get("env_secrets") or ())
    stages = {s: replace(_stage_of_file(path, raw, s), data=apply_stage(raw, s)) for s in STAGES}
    _check_secrets_per_stage(path, raw, stages)
    return ServiceConfig(
        path=path,
        name=raw["name"],
        region=raw.get("aws_region"),
        account=raw.get("aws_account"),
        platform=_platform(path, raw),
        network=_network(path, raw),
        env_secrets=env_secrets,
        stages=stages,
        pipeline=_pipeline(path, raw),
        scan_gate=_scan_gate(path, raw),
        bootstrap_qualifier=raw.get("bootstrap_qualifier"),
    )


def _stage_of_file(path: str, raw: ConfigData, stage: str) -> StageConfig:
    """A stage as its containers will read it: ``pym-config.<stage>.yaml`` replaces
    pym-config.yaml for that stage when it exists (the runtime's rule, config.stage_file)."""
    own = path
    if os.path.basename(path) == "pym-config.yaml":  # the kit also reads other names (tests)
        own = stage_file(os.path.dirname(path), stage)
    if own == path:
        return _stage_config(path, raw, stage, tuple(raw.get("env_secrets") or ()))
    data = read_config_file(own)
    check_deploy_keys(own, data)
    check_aws_values(own, data)
    if data.get("name") != raw["name"]:
        raise _fail(
            own,
            "name",
            f"expected the service's name {raw['name']!r} (as in {os.path.basename(path)})",
        )
    return _stage_config(own, data, stage, tuple(data.get("env_secrets") or ()))


def _known_keys() -> dict[str, set[str]]:
    """Keys the schema declares: top level, and inside each object section."""
    props = config_schema().get("properties") or {}
    out = {"": set(props)}
    for key, value in props.items():
        if isinstance(value, dict) and "properties" in value:
            out[key] = set(value["properties"])
    return out


def check_deploy_keys(path: str, raw: ConfigData) -> None:
    """Fail synth on an unknown key that looks like a deploy key (``aws_host_max``): the
    runtime tolerates unknown keys (services read their own), the kit must not ignore a typo."""
    import difflib

    known = _known_keys()
    for key in raw:
        if key in known[""]:
            continue
        close = difflib.get_close_matches(key, sorted(known[""]), n=1, cutoff=0.8)
        if close or key.startswith("aws_"):
            hint = f": did you mean '{close[0]}'?" if close else ""
            raise _fail(path, key, f"unknown deploy key '{key}'{hint}")


# ---- values botocore knows (kit side: the runtime never imports botocore) ------------------


def _botocore_regions() -> set[str]:
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return regions


def _botocore_instance_types() -> set[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("ec2")
    return set(model.shape_for("InstanceType").enum)


def _check_known(path: str, key: str, value: str, known: set[str], what: str) -> None:
    import difflib

    import botocore

    if value in known:
        return
    close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"expected {what}"
    raise _fail(
        path,
        key,
        f"{value!r} is not {what} known to botocore {botocore.__version__}: {hint} "
        "(a newer one needs a newer botocore: pip install -U botocore)",
    )


def check_aws_values(path: str, raw: ConfigData) -> None:
    """``aws_region`` and every ``aws_instance_type`` (top level and per stage) must be ones
    AWS has: botocore's endpoint data and EC2's InstanceType enum."""
    region = raw.get("aws_region")
    if region:
        _check_known(path, "aws_region", str(region), _botocore_regions(), "an AWS region")
    types = None
    places = [("aws_instance_type", raw.get("aws_instance_type"))]
    for stage, keys in (raw.get("stages") or {}).items():
        places.append((f"stages.{stage}.aws_instance_type", (keys or {}).get("aws_instance_type")))
    for key, value in places:
        if value is None:
            continue
        types = types if types is not None else _botocore_instance_types()
        _check_known(path, key, str(value), types, "an EC2 instance type")
