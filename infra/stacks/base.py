"""What every stack of one service has in common (the network's is the account's, not a
service's: it opens itself)."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from ..config import ServiceConfig


def open_service_stack(
    stack: Stack,
    scope: Construct,
    id: str,
    config: ServiceConfig,
    stack_name: str,
    what: str,
    **options: Any,
) -> None:
    """``Stack.__init__`` of one of ``config``'s stacks: its CloudFormation name and the
    description each carries, ``"<service>: <what> (pymacaron)"``; ``options`` are a
    Stack's (``env``...)."""
    Stack.__init__(
        stack,
        scope,
        id,
        stack_name=stack_name,
        description=f"{config.name}: {what} (pymacaron)",
        **options,
    )
