"""The deploy-time view of pym-config.yaml: read once, by the runtime's one reader.

``load_service_config(path)`` parses and validates the file with
:func:`pymacaron.config.read_config_file` (the same JSON Schema the service reads at
start-up), applies ``stages.<stage>`` overrides with :func:`pymacaron.config.apply_stage`
(and ``pym-config.<stage>.yaml`` where one replaces the file for its stage), and builds
the typed model (config_model.py) through the kit's rules (config_rules.py: every
cross-key rule, each error a :class:`pymacaron.exceptions.StartupError` naming the file and
the key). This module keeps the names the kit and services import from
``pymacaron_kit.config``.
"""

from __future__ import annotations

import os
from dataclasses import replace

from pymacaron.config import ConfigData, apply_stage, read_config_file, stage_file

from .config_model import *  # noqa: F403 - the model's names, importable from here as before
from .config_model import STAGES, ServiceConfig, StageConfig
from .config_model import __all__ as _MODEL_NAMES
from .config_rules import (
    _beanstalk_options,
    _check_secrets_per_stage,
    _fail,
    _network,
    _pipeline,
    _platform,
    _scan_gate,
    _stage_config,
    check_aws_values,
    check_deploy_keys,
)

__all__ = [
    *_MODEL_NAMES,
    "check_aws_values",
    "check_deploy_keys",
    "load_service_config",
    "stage_data",
    "stage_values",
]


def stage_data(path: str, stage: str) -> ConfigData:
    """pym-config.yaml as ``stage`` sees it (``stages.<stage>`` applied, deploy keys checked):
    what the kit's pieces read when given a file rather than a :class:`ServiceConfig`."""
    return apply_stage(read_config_file(os.path.abspath(path)), stage)


def stage_values(
    config: str | ConfigData, stage: str, path: str | None = None
) -> tuple[ConfigData, str | None]:
    """A stage's values as the kit's pieces take them, given as values (``StageConfig.data``,
    ``path`` the file to name in errors) or as a pym-config path: (values, path)."""
    if isinstance(config, str):
        return stage_data(config, stage), config
    return config, path


def load_service_config(path: str) -> ServiceConfig:
    """Read pym-config.yaml for deployment; raises StartupError naming the file and key."""
    path = os.path.abspath(path)
    raw = read_config_file(path)
    check_deploy_keys(path, raw)
    check_aws_values(path, raw)
    env_secrets = tuple(raw.get("env_secrets") or ())
    stages = {
        s: replace(
            _stage_of_file(path, raw, s),
            data=apply_stage(raw, s),
            beanstalk_options=_beanstalk_options(path, raw, s),
        )
        for s in STAGES
    }
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
