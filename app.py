#!/usr/bin/env python3
"""The CDK app: the kit builds every stack from pym-config.yaml (`pym synth`, `pym deploy STAGE`)."""

from aws_cdk import App

from pymacaron_kit.stacks import build_app

app = App()
# the stacks, typed ("Escape hatches" in `pym docs deploy`): e.g.
# stacks.stages["live"].add_option_setting(NAMESPACE, OPTION, VALUE)
stacks = build_app(app, exit_on_error=True)
app.synth()
