"""Every rule of pym-config the deploy kit adds to the schema, each error naming the file
and the key (:class:`pymacaron.exceptions.StartupError`).

The schema (pym-config.schema.json, checked by the runtime's reader) holds each key's form
and default; what it cannot say lives here: rules between keys (``aws_hosts_min`` <=
``aws_hosts_max``; a ``secrets:`` reference for every ``env_secrets`` name, and none shared
by staging and live; a host with its certificate and zone; one pipeline source and one
package index; a network of its own with its own range; PROVISIONED tables with their
capacity; a task queue for ``with_async`` unless the stage names its own broker; an image
version with its account and region), typos of deploy keys, and values botocore knows
(regions, instance types). Each function builds one part of the typed model
(config_model.py) from the raw file; config.py calls them once per file.
"""

from __future__ import annotations

import os

from pymacaron.config import DEFAULTS as RUNTIME_DEFAULTS
from pymacaron.config import apply_stage, config_schema, schema_default
from pymacaron.exceptions import StartupError
from pymacaron.spec.yamlfile import display_path

from . import names
from .beanstalk_options import MODELLED, MODELLED_OPTIONS, check_option
from .config_model import (
    DEFAULTS,
    MAX_ENVIRONMENT_NAME,
    BeanstalkOption,
    CodeArtifact,
    HostedZone,
    Network,
    PipelineConfig,
    Platform,
    ScanGate,
    SecretRef,
    StageConfig,
)


def _fail(path: str, key: str, message: str) -> StartupError:
    return StartupError(message, file=display_path(path), location=f"key '{key}'")


def _secret_ref(env_name: str, ref: str) -> SecretRef:
    """Where a reference lives. Its form is the schema's rule (``definitions.secret_ref``):
    read_config_file already refused anything else, a pasted secret value included."""
    if ref.startswith("/"):
        return SecretRef(env_name, "ssm", parameter_name=ref)
    # arn:<partition>:<ssm|secretsmanager>:<region>:<account>:<resource...>
    return SecretRef(env_name, ref.split(":")[2], arn=ref)


def _stage_config(path: str, raw: dict, stage: str, env_secrets: tuple[str, ...]) -> StageConfig:
    data = apply_stage(raw, stage)
    merged = {**DEFAULTS, **{k: v for k, v in data.items() if v is not None}}
    stage_keys = (raw.get("stages") or {}).get(stage) or {}

    def where(key: str) -> str:
        return f"stages.{stage}.{key}" if key in stage_keys else key

    hosts_min, hosts_max = merged["aws_hosts_min"], merged["aws_hosts_max"]
    if hosts_min > hosts_max:  # the one check of this rule (the runtime does not read sizes)
        own = [k for k in ("aws_hosts_min", "aws_hosts_max") if k in stage_keys]
        raise _fail(
            path,
            where(own[0]) if own else "aws_hosts_min",
            (f"stage {stage}: " if own else "")
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


def beanstalk_options_of(
    path: str, data: dict, key: str = "beanstalk_options"
) -> tuple[BeanstalkOption, ...]:
    """``beanstalk_options:`` of a stage's values (``data``), checked: each entry a
    ``{namespace, option, value}`` in a namespace Elastic Beanstalk documents, and not one
    that a pym-config key already sets (the error names that key)."""
    out = []
    for i, entry in enumerate(data.get("beanstalk_options") or ()):
        where = f"{key}[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"namespace", "option", "value"}:
            raise _fail(path, where, "expected {namespace, option, value}")
        namespace, option = str(entry["namespace"]), str(entry["option"])
        try:
            check_option(namespace, option)
        except StartupError as e:
            raise _fail(path, where, e.detail) from None
        if namespace in MODELLED:
            raise _fail(
                path,
                where,
                f"{namespace} is set from pym-config's {MODELLED[namespace]!r}: use that",
            )
        modelled = MODELLED_OPTIONS.get((namespace, option))
        if modelled:
            raise _fail(
                path, where, f"{namespace} {option} is set from pym-config's {modelled!r}: use that"
            )
        value = entry["value"]
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        out.append(BeanstalkOption(namespace, option, text))
    return tuple(out)


def _beanstalk_options(path: str, raw: dict, stage: str) -> tuple[BeanstalkOption, ...]:
    own = "beanstalk_options" in ((raw.get("stages") or {}).get(stage) or {})
    key = f"stages.{stage}.beanstalk_options" if own else "beanstalk_options"
    return beanstalk_options_of(path, apply_stage(raw, stage), key)


def _host_name(live_host: str) -> str:
    """``https://api.example.com/`` -> ``api.example.com``."""
    return live_host.split("://", 1)[-1].split("/", 1)[0].lower()


def _check_secrets_per_stage(path: str, raw: dict, stages: dict[str, StageConfig]) -> None:
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


def _scan_gate(path: str, raw: dict) -> ScanGate:
    data = raw.get("image_scan") or {}
    gate = ScanGate()  # the schema's defaults
    limits = data.get("max_findings", gate.max_findings)
    return ScanGate(
        max_findings={k.upper(): int(v) for k, v in limits.items()},
        allow=bool(data.get("allow", gate.allow)),
        timeout_seconds=int(data.get("timeout_seconds", gate.timeout_seconds)),
    )


def _platform(path: str, raw: dict) -> Platform:
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


def _network(path: str, raw: dict) -> Network:
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
            max_azs=vpc.get("max_azs", Network.max_azs),
            nat_gateways=vpc.get("nat_gateways", Network.nat_gateways),
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


def _pipeline(path: str, raw: dict) -> PipelineConfig | None:
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
        manual_approval=bool(
            data.get("manual_approval", schema_default("pipeline", "manual_approval"))
        ),
        notification_email=data.get("notification_email") or raw.get("notification_email"),
        connection_arn=data.get("connection_arn"),
        repository=data.get("repository"),
        codecommit_repository=data.get("codecommit_repository"),
        unit_tests=(data.get("unit_tests") or "").strip() or None,
    )


def _known_keys() -> dict[str, set[str]]:
    """Keys the schema declares: top level, and inside each object section."""
    props = config_schema().get("properties") or {}
    out = {"": set(props)}
    for key, value in props.items():
        if isinstance(value, dict) and "properties" in value:
            out[key] = set(value["properties"])
    return out


def check_deploy_keys(path: str, raw: dict) -> None:
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


def check_aws_values(path: str, raw: dict) -> None:
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


# ---- rules the constructs and commands apply to a stage's values ---------------------------

# Where the kit looks for a region pym-config does not state (the AWS CLI's and SDKs' names).
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def deploy_region(region: str | None, environ=None, cdk: bool = False) -> str | None:
    """The region a deploy targets: pym-config's ``aws_region``, else the environment's
    (``CDK_DEFAULT_REGION`` first when ``cdk``: the CDK CLI sets it for a synth)."""
    environ = os.environ if environ is None else environ
    variables = (("CDK_DEFAULT_REGION",) if cdk else ()) + REGION_VARIABLES
    return region or next((environ[v] for v in variables if environ.get(v)), None)


def image_of_version(config, version: str, account: str | None = None,
                     region: str | None = None, otherwise: str = "") -> str:  # fmt: skip
    """The image URI of ``version`` in the service's ECR repository: a version needs the
    account and region of the image (pym-config's, else ``account``/``region``)."""
    account, region = config.account or account, config.region or region
    if not (account and region):
        raise StartupError(
            f"deploying version {version!r} needs the AWS account and region of the image: "
            f"set aws_account and aws_region in pym-config.yaml{otherwise}",
            file=config.path,
            location="key 'aws_account'",
        )
    return names.image_uri(account, region, config.repository_name, version)


def table_settings_of(data: dict, stage: str, path: str | None) -> dict:
    """Billing mode and capacity of the stage's tables: ``dynamodb_billing_mode``
    PROVISIONED needs ``dynamodb_read_capacity`` and ``dynamodb_write_capacity``."""
    mode = data.get("dynamodb_billing_mode") or schema_default("dynamodb_billing_mode")
    out = {"billing_mode": mode}
    if mode == "PROVISIONED":
        for key in ("dynamodb_read_capacity", "dynamodb_write_capacity"):
            if not data.get(key):
                raise StartupError(
                    f"stage {stage}: dynamodb_billing_mode PROVISIONED needs {key} "
                    "(capacity units per table and per index)",
                    file=display_path(path) if path else "pym-config.yaml",
                    location=f"key '{key}'",
                )
        out["read_capacity"] = data["dynamodb_read_capacity"]
        out["write_capacity"] = data["dynamodb_write_capacity"]
    return out


def task_queue_of(data: dict) -> dict | None:
    """What the stage's SQS task queue needs, or None when it needs none: a queue is made
    when ``with_async`` is true and ``broker_url`` is unset or ``sqs://`` (a stage pointing
    at its own broker, e.g. a Redis URL, manages it itself)."""
    broker = data.get("broker_url")
    if not data.get("with_async") or (broker and not broker.startswith("sqs://")):
        return None
    return {
        "visibility_timeout": int(
            data.get("task_visibility_timeout") or schema_default("task_visibility_timeout")
        ),
        "worker_concurrency": data.get("worker_concurrency"),
    }
