#!/usr/bin/env python3
"""The CDK app: the kit builds every stack from pym-config.yaml (`pym synth`, `pym deploy STAGE`)."""

from aws_cdk import App

from pymacaron_kit.stacks import build_app

app = App()
build_app(app, exit_on_error=True)
app.synth()
