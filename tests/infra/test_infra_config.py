"""The deploy-time config model: pym-config.yaml (one schema) -> ServiceConfig."""

from __future__ import annotations

import textwrap

import pytest

from pymacaron.exceptions import StartupError
from pymacaron_kit.config import DEFAULTS, load_service_config
from tests.infra.infra_helpers import CONFIGS, ROOT  # noqa: F401  (ROOT puts the repo on sys.path)

MINIMAL = """
name: minsvc
env_secrets: [JWT_SECRET]
secrets:
  JWT_SECRET: /minsvc/{stage}/jwt-secret
"""


def write(tmp_path, text: str):
    path = tmp_path / "pym-config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_fixture_stages_merge_overrides_over_top_level_keys():
    cfg = load_service_config(CONFIGS / "service.yaml")
    staging, live = cfg.stages["staging"], cfg.stages["live"]
    assert (staging.instance_type, staging.hosts_min, staging.hosts_max) == ("t3.small", 1, 3)
    assert (live.instance_type, live.hosts_min, live.hosts_max) == ("m6i.large", 2, 6)
    assert staging.cert_arn is None and live.cert_arn.startswith("arn:aws:acm:")
    assert staging.deployment_policy == "Immutable"
    assert live.deployment_policy == "RollingWithAdditionalBatch"
    assert (staging.log_retention_days, live.log_retention_days) == (14, 90)
    assert staging.env == {"FEATURE_X": "on"}
    assert cfg.region == "eu-west-1" and cfg.name == "testsvc"
    assert cfg.stack_name("live") == "testsvc-live"
    assert cfg.environment_name("staging") == "testsvc-staging"


def test_secret_references_are_typed_and_stage_specific():
    cfg = load_service_config(CONFIGS / "service.yaml")
    staging = {s.env_name: s for s in cfg.stages["staging"].secrets}
    live = {s.env_name: s for s in cfg.stages["live"].secrets}
    assert staging["JWT_SECRET"].service == "ssm"
    assert staging["JWT_SECRET"].parameter_name == "/testsvc/staging/jwt-secret"
    assert staging["DB_PASSWORD"].service == "secretsmanager"
    assert live["JWT_SECRET"].arn.endswith(":parameter/testsvc/live/jwt-secret")
    assert live["DB_PASSWORD"].arn.endswith(":secret:testsvc-live-db-XyZ789")


def test_defaults_for_a_minimal_config(tmp_path):
    cfg = load_service_config(write(tmp_path, MINIMAL))
    for stage in cfg.stages.values():
        assert stage.instance_type == DEFAULTS["aws_instance_type"]
        assert (stage.hosts_min, stage.hosts_max) == (1, 2)
        assert stage.deployment_policy == "Immutable"
        assert stage.log_retention_days == 30
        assert stage.cert_arn is None and stage.notification_email is None
    # neither: the branch's version recorded by `pym platform refresh` (infra/platform.py)
    assert cfg.platform.solution_stack is None and cfg.platform.platform_arn is None
    assert not cfg.network.existing and cfg.network.nat_gateways == 1
    assert cfg.region is None and cfg.account is None


def test_live_host_names_live_only(tmp_path):
    cert = "arn:aws:acm:eu-west-1:111122223333:certificate/abc"
    cfg = load_service_config(
        write(tmp_path, MINIMAL + f"live_host: api.minsvc.example.com\naws_cert_arn: {cert}\n")
    )
    assert cfg.stages["live"].live_host == "api.minsvc.example.com"
    assert cfg.stages["live"].cert_arn == cert
    # the top-level certificate is live's: staging serves its LB name, over HTTP
    assert cfg.stages["staging"].live_host is None and cfg.stages["staging"].cert_arn is None


def test_existing_vpc_by_ids(tmp_path):
    cfg = load_service_config(
        write(
            tmp_path,
            MINIMAL
            + textwrap.dedent("""
        vpc:
          id: vpc-0abc
          public_subnets: [subnet-0a, subnet-0b]
          private_subnets: [subnet-1a, subnet-1b]
        """),
        )
    )
    assert cfg.network.existing and cfg.network.vpc_id == "vpc-0abc"
    assert cfg.network.private_subnets == ("subnet-1a", "subnet-1b")


def test_platform_arn_replaces_the_solution_stack(tmp_path):
    arn = "arn:aws:elasticbeanstalk:eu-west-1::platform/Docker running on 64bit Amazon Linux 2023/4.7.3"
    cfg = load_service_config(write(tmp_path, MINIMAL + f"platform:\n  platform_arn: {arn}\n"))
    assert cfg.platform.platform_arn == arn and cfg.platform.solution_stack is None


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        # every env_secrets name needs a reference in every deployed stage
        ("env_secrets: [JWT_SECRET, API_KEY]\n", "key 'secrets'", "missing: API_KEY"),
        (
            "stages:\n  live:\n    secrets:\n      OTHER: /x/y\n",
            "key 'stages.live.secrets'",
            "missing: JWT_SECRET",
        ),
        # a value that is not a reference (a pasted secret) is refused by the one schema
        (
            "stages:\n  staging:\n    secrets:\n      JWT_SECRET: hunter2\n",
            "stages.staging.secrets.JWT_SECRET",
            "",
        ),
        (
            "stages:\n  live:\n    aws_hosts_min: 5\n",
            "key 'stages.live.aws_hosts_min'",
            "stage live: aws_hosts_min (5) is larger than aws_hosts_max (2)",
        ),
        (
            "aws_hosts_max: 1\nstages:\n  live:\n    aws_hosts_min: 3\n",
            "key 'stages.live.aws_hosts_min'",
            "aws_hosts_min (3) is larger than aws_hosts_max (1)",
        ),
        ("aws_hosts_min: 3\naws_hosts_max: 2\n", "key 'aws_hosts_min'", "min (3) is larger than"),
        ("aws_instance_type: huge\n", "aws_instance_type", ""),
        ("deployment_policy: YOLO\n", "deployment_policy", ""),
        ("vpc:\n  public_subnets: [subnet-0a]\n", "key 'vpc.public_subnets'", "vpc.id"),
        ("vpc:\n  id: vpc-0abc\n", "key 'vpc.public_subnets'", "public subnet ids"),
        (
            "platform:\n  solution_stack: 64bit Amazon Linux 2023 v4.7.3 running Docker\n"
            "  platform_arn: arn:aws:elasticbeanstalk:eu-west-1::platform/x\n",
            "key 'platform'",
            "got both",
        ),
        (
            "platform:\n  solution_stack: 64bit Amazon Linux 2 v3.0.0 running Docker\n",
            "platform.solution_stack",
            "",
        ),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, extra, key, expected):
    text = MINIMAL
    if extra.startswith("env_secrets:"):
        text = text.replace("env_secrets: [JWT_SECRET]\n", "")
    path = write(tmp_path, text + extra)
    with pytest.raises(StartupError) as err:
        load_service_config(path)
    message = str(err.value)
    assert "pym-config.yaml" in message
    assert key in message
    assert expected in message


def test_a_stage_file_replaces_pym_config_for_that_stage_as_the_runtime_reads_it(tmp_path):
    """pym-config.live.yaml is what live's containers read (config.stage_file): the stack for
    live is built from it too, so a size or a secret set there reaches live's template."""
    base = write(tmp_path, MINIMAL + "aws_hosts_max: 2\n")
    (tmp_path / "pym-config.live.yaml").write_text(
        textwrap.dedent(MINIMAL) + "aws_hosts_min: 2\naws_hosts_max: 6\n"
    )
    cfg = load_service_config(base)
    assert (cfg.stages["staging"].hosts_min, cfg.stages["staging"].hosts_max) == (1, 2)
    assert (cfg.stages["live"].hosts_min, cfg.stages["live"].hosts_max) == (2, 6)
    (tmp_path / "pym-config.live.yaml").write_text(
        textwrap.dedent(MINIMAL).replace("minsvc", "other") + "aws_hosts_max: 6\n"
    )
    with pytest.raises(StartupError, match=r"pym-config\.live\.yaml.*name.*'minsvc'"):
        load_service_config(base)
    (tmp_path / "pym-config.live.yaml").write_text(
        textwrap.dedent(MINIMAL) + "aws_hosts_min: 7\naws_hosts_max: 6\n"
    )
    with pytest.raises(StartupError, match=r"pym-config\.live\.yaml.*larger than"):
        load_service_config(base)
