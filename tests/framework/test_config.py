"""pym-config.yaml: validation against the one schema, stages, env secrets, unknown keys."""

import logging

import pytest

from pymacaron.config import apply_stage, config_path, load_config, read_config_file
from pymacaron.exceptions import StartupError


def write(tmp_path, text, name="pym-config.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_minimal_config_and_defaults(tmp_path):
    conf = load_config(path=write(tmp_path, "name: svc\n"), environ={})
    assert conf.name == "svc"
    assert conf.jwt_token_timeout == 86400
    assert conf.response_validation == "error"
    assert conf.aws_cert_arn is None  # known key, not set
    with pytest.raises(AttributeError, match="no key 'nope'"):
        conf.nope  # noqa: B018


@pytest.mark.parametrize(
    "text,location,fragment",
    [
        ("name: svc\naws_hosts_max: six\n", "key 'aws_hosts_max' (line 2)", "expected an integer"),
        ("name: Bad_Name\n", "key 'name' (line 1)", "must match the pattern"),
        (
            "name: svc\nresponse_validation: sometimes\n",
            "key 'response_validation'",
            "expected one of 'error', 'warn'",
        ),
        (
            "name: svc\nenv_secrets: [jwt-secret]\n",
            "key 'env_secrets[0]'",
            "must match the pattern",
        ),
        (
            "name: svc\nstages:\n  staging:\n    aws_hosts_max: 0\n",
            "key 'stages.staging.aws_hosts_max' (line 4)",
            "bigger than or equal to 1",
        ),
        ("name: svc\nstages:\n  prod: {}\n", "key 'stages'", "does not declare: {'prod'}"),
        ("aws_region: eu-west-1\n", "key 'name'", "is required but missing"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path, text, location, fragment):
    path = write(tmp_path, text)
    with pytest.raises(StartupError) as e:
        read_config_file(path)
    message = str(e.value)
    assert "pym-config.yaml" in message
    assert location in message, message
    assert fragment in message, message


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "name: svc\nenv_secrets: [A, B\nother: 1\n")
    with pytest.raises(
        StartupError, match=r"pym-config.yaml: line \d+, column \d+: malformed YAML"
    ):
        read_config_file(path)


def test_top_level_must_be_a_mapping(tmp_path):
    with pytest.raises(StartupError, match="expected a mapping"):
        read_config_file(write(tmp_path, "- a\n- b\n"))


def test_missing_file(tmp_path):
    with pytest.raises(StartupError, match="no pym-config file"):
        read_config_file(str(tmp_path / "pym-config.yaml"))


def test_env_secrets_come_from_the_environment(tmp_path):
    path = write(tmp_path, "name: svc\nenv_secrets: [JWT_SECRET, STRIPE_KEY]\n")
    conf = load_config(path=path, environ={"JWT_SECRET": "j", "STRIPE_KEY": "s"})
    assert conf.jwt_secret == "j" and conf.JWT_SECRET == "j" and conf.stripe_key == "s"
    assert "j" not in repr(conf)
    with pytest.raises(StartupError) as e:
        load_config(path=path, environ={"JWT_SECRET": "j"})
    assert "STRIPE_KEY" in str(e.value) and "env_secrets" in str(e.value)


def test_unknown_keys_warn_and_stay_readable(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        conf = load_config(
            path=write(tmp_path, "name: svc\nfeature_flags: {beta: true}\n"), environ={}
        )
    assert conf.feature_flags == {"beta": True}
    assert any("unknown key 'feature_flags'" in r.getMessage() for r in caplog.records)


def test_stage_overrides_apply_for_pym_env(tmp_path):
    text = "name: svc\naws_hosts_max: 2\nstages:\n  live:\n    aws_hosts_max: 6\n"
    path = write(tmp_path, text)
    assert load_config(path=path, env="live", environ={}).aws_hosts_max == 6
    assert load_config(path=path, env="staging", environ={}).aws_hosts_max == 2
    assert apply_stage({"a": 1, "stages": {"live": {"a": 2}}}, "live")["a"] == 2


def test_env_specific_file_wins(tmp_path):
    write(tmp_path, "name: svc\n")
    write(tmp_path, "name: svc-staging\n", name="pym-config.staging.yaml")
    assert config_path(str(tmp_path), "staging").endswith("pym-config.staging.yaml")
    assert config_path(str(tmp_path), "live").endswith("pym-config.yaml")
    assert load_config(str(tmp_path), env="staging", environ={}).name == "svc-staging"


def test_example_config_is_valid():
    from tests.conftest import REPO

    read_config_file(f"{REPO}/pym-config.yaml")


def test_secret_values_are_not_echoed_in_errors(tmp_path):
    path = write(
        tmp_path,
        "name: svc\nenv_secrets: [JWT_SECRET]\nsecrets:\n  JWT_SECRET: sup3r-s3cret-value\n",
    )
    with pytest.raises(StartupError) as e:
        read_config_file(path)
    assert "key 'secrets.JWT_SECRET'" in str(e.value)
    assert "sup3r-s3cret-value" not in str(e.value)


def test_deploy_sizes_are_the_kits_rule_not_the_runtimes(tmp_path):
    """aws_hosts_min <= aws_hosts_max is checked once, by the deploy kit (infra/config.py):
    the runtime reads no sizes, so it does not refuse them."""
    path = write(tmp_path, "name: svc\naws_hosts_min: 4\naws_hosts_max: 2\n")
    assert read_config_file(path)["aws_hosts_min"] == 4
    from pymacaron_kit.config import load_service_config

    with pytest.raises(StartupError, match=r"key 'aws_hosts_min'.*min \(4\) is larger than"):
        load_service_config(path)


def test_a_checked_config_is_recorded_and_not_validated_again(tmp_path, monkeypatch):
    """As a spec's check: a file that passed is recorded (spec/cache.py) under its bytes, so
    the next start skips the validator (~4 MiB of a worker's memory to compile); changed
    bytes are validated again, and a refused file is never recorded."""
    from pymacaron import config

    monkeypatch.setenv("PYM_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "pym-config.yaml"
    path.write_text("name: recorded\n")
    assert read_config_file(str(path), deploy=False)["name"] == "recorded"

    def no_validator():
        raise AssertionError("validated again")

    monkeypatch.setattr(config, "_runtime_validator", no_validator)
    assert read_config_file(str(path), deploy=False)["name"] == "recorded"
    monkeypatch.undo()
    monkeypatch.setenv("PYM_CACHE_DIR", str(tmp_path / "cache"))
    path.write_text("name: recorded\nresponse_validation: sometimes\n")
    for _ in range(2):  # refused both times: the failure was not recorded
        with pytest.raises(StartupError, match="response_validation"):
            read_config_file(str(path), deploy=False)
    with pytest.raises(StartupError, match="response_validation"):
        read_config_file(str(path), deploy=True)  # the kit's mode has its own record
