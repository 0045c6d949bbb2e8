"""Release steps read pym-config with the runtime's one reader: same duplicate-key check,
same schema, same stage overrides, same one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pymacaron.config import load_config
from pymacaron.exceptions import StartupError
from pymacaron_kit.release import common as rel
from pymacaron_kit.release.image import container_env
from tests.infra.infra_helpers import ROOT

BAD = {
    "duplicate key": "name: svc\nenv_secrets: []\nname: other\n",
    "schema violation": "name: svc\nclient_retries: many\n",
    "stage schema violation": "name: svc\nstages:\n  staging:\n    response_validation: sometimes\n",
}


def _runtime_error(root, stage=None) -> str:
    with pytest.raises(StartupError) as e:
        load_config(str(root), env=stage, environ={})
    return str(e.value)


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_pym_config_fails_a_release_step_with_the_runtimes_error(tmp_path, case):
    (tmp_path / "pym-config.yaml").write_text(BAD[case])
    expected = _runtime_error(tmp_path, "staging")
    assert "pym-config.yaml" in expected and ("key '" in expected or "line " in expected)
    with pytest.raises(rel.ReleaseError) as e:
        rel.read_pym_config(str(tmp_path), "staging")
    assert (str(e.value), e.value.code) == (expected, rel.EXIT_USAGE)
    with pytest.raises(rel.ReleaseError) as e:
        container_env(str(tmp_path), "staging", [])
    assert str(e.value) == expected


def test_pym_image_build_stops_on_a_duplicate_key_before_touching_an_engine(tmp_path):
    (tmp_path / "pym-config.yaml").write_text(BAD["duplicate key"])
    expected = _runtime_error(tmp_path)
    env = dict(os.environ, DOCKER_HOST="unix:///nonexistent.sock", PYM_SERVICE_DIR="")
    proc = subprocess.run(
        [sys.executable, "-m", "pymacaron", "image", "build", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.returncode == rel.EXIT_USAGE, proc.stderr
    assert "duplicate key" in expected and expected in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_image_run_sees_the_stage_as_the_runtime_does(tmp_path, monkeypatch):
    (tmp_path / "pym-config.yaml").write_text(
        "name: svc\nenv:\n  COLOR: blue\nenv_secrets: [API_KEY]\n"
        "stages:\n  staging:\n    env:\n      COLOR: green\n"
    )
    # pym-config.live.yaml replaces pym-config.yaml for live, as at runtime
    (tmp_path / "pym-config.live.yaml").write_text(
        "name: svc\nenv:\n  COLOR: red\nenv_secrets: [LIVE_KEY]\n"
    )
    monkeypatch.setenv("API_KEY", "k1")
    monkeypatch.setenv("LIVE_KEY", "k2")
    for stage, color, secret in (("staging", "green", "API_KEY"), ("live", "red", "LIVE_KEY"),
                                 (None, "blue", "API_KEY")):  # fmt: skip
        runtime = load_config(str(tmp_path), env=stage)
        env, secrets = container_env(str(tmp_path), stage, [])
        assert runtime.env == {"COLOR": color} and env["COLOR"] == color
        assert secrets == runtime.env_secrets == [secret]
        assert env[secret] == os.environ[secret]
        assert env.get("PYM_ENV") == stage


def test_a_missing_env_secret_is_the_runtimes_error(tmp_path, monkeypatch):
    (tmp_path / "pym-config.yaml").write_text("name: svc\nenv_secrets: [NOT_SET_HERE]\n")
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    with pytest.raises(StartupError) as runtime:
        load_config(str(tmp_path), env="staging")
    with pytest.raises(rel.ReleaseError) as e:
        container_env(str(tmp_path), "staging", [])
    assert str(e.value) == str(runtime.value)
    assert "key 'env_secrets'" in str(e.value) and "NOT_SET_HERE" in str(e.value)


def test_no_pym_config_is_an_empty_config_for_release_steps(tmp_path):
    assert rel.read_pym_config(str(tmp_path)) == {}


def test_pipeline_local_makes_a_throwaway_value_for_each_stages_env_secrets(tmp_path, monkeypatch):
    """staging and live each read their own stage file, so both stages' secrets are made."""
    from pymacaron_kit.release.pipeline_local import PipelineLocal

    (tmp_path / "pym-config.yaml").write_text("name: svc\nenv_secrets: [STAGING_ONLY]\n")
    (tmp_path / "pym-config.live.yaml").write_text("name: svc\nenv_secrets: [LIVE_ONLY]\n")
    for name in ("STAGING_ONLY", "LIVE_ONLY"):
        monkeypatch.setenv(name, "")  # unset for the run; restored afterwards
    run = PipelineLocal(str(tmp_path), tag="t1")
    run.secrets_env()
    assert run.env["STAGING_ONLY"] and run.env["LIVE_ONLY"]
    assert run.env["STAGING_ONLY"] != run.env["LIVE_ONLY"]
