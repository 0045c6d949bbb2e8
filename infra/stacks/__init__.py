"""The stacks ``app.py`` instantiates, and ``build_app`` which wires them from pym-config.

Construct ids are what ``cdk deploy`` takes (``PymService-shared``, ``PymService-staging``,
``PymService-live``); the CloudFormation stack names carry the service name
(``petshop-shared``...) so two services can share an account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import App, Environment, Tags

from pymacaron.exceptions import StartupError

from ..config import STAGES, ServiceConfig, load_service_config
from ..config_rules import deploy_region, image_of_version
from ..nag import add_quality_gates
from ..names import IMAGE_TAG, NETWORK, PIPELINE_INFIX, SHARED, cdk_id
from ..service_repo import check_service_repo
from .network import NetworkStack
from .pipeline import PipelineStack
from .service import ServiceStageStack
from .shared import SharedStack

__all__ = [
    "NetworkStack",
    "PipelineStack",
    "PymStacks",
    "SharedStack",
    "ServiceStageStack",
    "build_app",
    "stack_id",
]

CONFIG_CONTEXT = "config"  # -c config=path/to/pym-config.yaml (default: ./pym-config.yaml)
VERSION_CONTEXT = "version"  # -c version=20261123-abc1234: the image tag to deploy
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"
TAG = IMAGE_TAG  # an image tag (infra/names.py)


stack_id = cdk_id  # the construct id `cdk deploy` takes (infra/names.py)


@dataclass
class PymStacks:
    config: ServiceConfig
    shared: SharedStack
    stages: dict[str, ServiceStageStack]
    pipeline: PipelineStack | None = None
    network: NetworkStack | None = None


def _image(config: ServiceConfig, version: str, environ: Mapping[str, str]) -> str:
    from ..deploy import account_from_environment

    return image_of_version(
        config,
        version,
        account_from_environment(environ),
        deploy_region(None, environ, cdk=True),
        otherwise=", or run with AWS credentials (pym synth/deploy and the CDK CLI then read "
        "the account from them)",
    )


def build_app(
    app: App,
    config_path: str | None = None,
    version: str | None = None,
    quality_gates: bool = True,
    environ: Mapping[str, str] | None = None,
    exit_on_error: bool = False,
) -> PymStacks:
    """Add the service's stacks to ``app`` from pym-config.yaml (context or arguments).

    A config error raises StartupError (naming the file and key), or with
    ``exit_on_error`` exits with that message alone, as the CLI shows it.
    """
    try:
        return _build(app, config_path, version, quality_gates, environ)
    except StartupError as e:
        if exit_on_error:
            raise SystemExit(f"pym-config error: {e}") from None
        raise


def _build(
    app: App,
    config_path: str | None,
    version: str | None,
    quality_gates: bool,
    environ: Mapping[str, str] | None,
) -> PymStacks:
    environ = os.environ if environ is None else environ
    config_path = config_path or app.node.try_get_context(CONFIG_CONTEXT) or "pym-config.yaml"
    version = version or app.node.try_get_context(VERSION_CONTEXT)
    config = load_service_config(config_path)
    # Region only (never an account lookup): stacks stay environment-agnostic enough to
    # synthesize offline; `cdk deploy` targets aws_region when it is set.
    env = Environment(region=config.region) if config.region else None
    if version is not None and not TAG.match(str(version)):
        raise StartupError(
            f"expected an image tag (letters, digits, '_', '.', '-'; at most 128), got {version!r}",
            location="context 'version' (-c version=...)",
        )
    image = _image(config, str(version), environ) if version else None
    if config.bootstrap_qualifier:
        # every stack (the pipeline's stages too) deploys through that bootstrap's roles
        app.node.set_context(QUALIFIER_CONTEXT, config.bootstrap_qualifier)
    shared = SharedStack(app, stack_id(SHARED), config=config, env=env)
    network = None
    if not config.network.existing:
        network = NetworkStack(app, stack_id(NETWORK), config=config, env=env)
    stages: dict[str, ServiceStageStack] = {}
    for stage in STAGES:
        stack = ServiceStageStack(
            app,
            stack_id(stage),
            config=config,
            stage=stage,
            image=image,
            version=str(version) if version else None,
            env=env,
        )
        stack.add_stack_dependency(shared, "the environment runs the shared application's images")
        if network is not None:
            stack.add_stack_dependency(network, "the environment runs in the shared network")
        stages[stage] = stack
    pipeline = None
    if config.pipeline is not None:  # only when pym-config has `pipeline:`
        # what the buildspecs will call must exist in the repository (cdk's working dir)
        check_service_repo(environ.get("PYM_SERVICE_DIR") or os.getcwd(), config.path,
                           config.pipeline.unit_tests)  # fmt: skip
        pipeline = PipelineStack(
            app,
            stack_id(PIPELINE_INFIX),
            config=config,
            image=image,
            version=str(version) if version else None,
            env=env,
            stage_env=env,
        )
        pipeline.add_stack_dependency(shared, "the pipeline pushes to the shared repository")
        if network is not None:
            pipeline.add_stack_dependency(network, "its stages run in the shared network")
    for each in (shared, *stages.values(), *([pipeline] if pipeline else [])):
        Tags.of(each).add("pym:service", config.name)
        Tags.of(each).add("pym:stack", each.node.id)
    for stage, stack in stages.items():
        Tags.of(stack).add("pym:stage", stage)
    # The pipeline's stage stacks are tagged inside their Stage (add_stage synthesizes them
    # before anything here runs); the shared network carries no one service's tag.
    if network is not None:
        Tags.of(network).add("pym:stack", network.node.id)
    if quality_gates:
        add_quality_gates(app)
    return PymStacks(
        config=config, shared=shared, stages=stages, pipeline=pipeline, network=network
    )
