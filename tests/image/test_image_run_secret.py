"""`pym image run` in a plain shell: a local run takes the repository's development
JWT_SECRET (``.pym/dev-secret``), as `pym run` and `pym token` do; a stage never does."""

from __future__ import annotations

import pytest

from pymacaron.config import load_config
from pymacaron.devsecret import ensure_dev_secret
from pymacaron_kit.release import common as rel
from pymacaron_kit.release.image import container_env


@pytest.fixture
def service(tmp_path, monkeypatch):
    (tmp_path / "pym-config.yaml").write_text("name: svc\nenv_secrets: [JWT_SECRET]\n")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("PYM_ENV", raising=False)
    with open(ensure_dev_secret(str(tmp_path))) as f:
        return tmp_path, f.read().strip()


@pytest.mark.parametrize("pym_env", [None, "dev", "test"])
def test_a_local_run_takes_the_dev_secret_as_pym_run_does(service, pym_env, monkeypatch):
    root, dev = service
    env, secrets = container_env(str(root), pym_env, [])
    assert secrets == ["JWT_SECRET"] and env["JWT_SECRET"] == dev
    assert env["JWT_SECRET"] == load_config(str(root)).jwt_secret  # the same as `pym run`
    monkeypatch.setenv("JWT_SECRET", "")  # exported empty: still a plain shell
    assert container_env(str(root), pym_env, [])[0]["JWT_SECRET"] == dev


@pytest.mark.parametrize("stage", ["staging", "live"])
def test_a_stage_never_takes_the_dev_secret(service, stage):
    root, dev = service
    with pytest.raises(rel.ReleaseError) as e:
        container_env(str(root), stage, [])
    assert "JWT_SECRET" in str(e.value) and dev not in str(e.value)


def test_an_exported_secret_wins(service, monkeypatch):
    root, dev = service
    monkeypatch.setenv("JWT_SECRET", "exported-" + "x" * 32)
    assert container_env(str(root), None, [])[0]["JWT_SECRET"] == "exported-" + "x" * 32
