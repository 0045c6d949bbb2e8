#!/usr/bin/env python3
"""The CDK app: `cdk synth`, `cdk deploy PymService-staging -c version=<image tag>`.

Every decision lives in infra/ (docs/deploy.md); this file only wires it to the CLI.
"""

from aws_cdk import App

from infra.stacks import build_app

app = App()
build_app(app, exit_on_error=True)
app.synth()
