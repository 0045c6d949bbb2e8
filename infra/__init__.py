"""Deploy time: pym-config.yaml -> typed model (infra.config) -> CDK constructs -> stacks.

``infra.stacks.build_app`` is what ``app.py`` calls; the modules here are one construct
per logical unit (network, registry, iam, beanstalk, alarms, version) so later stacks
(pipeline, queues) compose them without touching the others.
"""

from .config import ServiceConfig, StageConfig, load_service_config

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
