"""Deploy time: pym-config.yaml -> typed model (infra.config) -> CDK constructs -> stacks.

``infra.stacks.build_app`` is what ``app.py`` calls; the modules here are one construct
per logical unit (network, registry, iam, beanstalk, alarms, version) so later stacks
(pipeline, queues) compose them without touching the others.
"""

from pymacaron.aliases import MOVED as _MOVED

from .config import ServiceConfig, StageConfig, load_service_config

# The kit's modules renamed in 3.2 (they misled: constructs named like the stacks, an
# offline diff named like deploy's plan): the old paths import the new module with a
# DeprecationWarning (pymacaron/aliases.py's finder) until 3.3.
_MOVED.update(
    {
        "pymacaron_kit.network": "pymacaron_kit.vpc",  # constructs; the stack: stacks/network
        "pymacaron_kit.pipeline": "pymacaron_kit.pipeline_steps",  # the stack: stacks/pipeline
        "pymacaron_kit.plan": "pymacaron_kit.template_diff",  # `pym plan`, not plan_deploy
        "pymacaron_kit.resources": "pymacaron_kit.package_data",  # the files the kit ships
        "pymacaron_kit.operate.names": "pymacaron_kit.names",  # every AWS name, one module
    }
)

__all__ = [
    "PymPipeline",
    "PymService",
    "PymShared",
    "PymStage",
    "ServiceConfig",
    "StageConfig",
    "load_service_config",
]


def __getattr__(name: str):
    # the constructs import aws_cdk (jsii starts a node process): only when asked for,
    # so `pym` and the config model start without it
    if name in ("PymService", "PymShared"):
        from . import construct

        return getattr(construct, name)
    if name in ("PymStage", "PymPipeline"):
        from . import stages

        return getattr(stages, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
