"""Operating a deployed service from pym-config: ``pym status``, ``logs``, ``rollback``,
``open``/``url`` (docs/operate.md).

Every AWS name comes from the config model (:mod:`.names`); boto3 takes credentials from
its standard chain and the region from pym-config's ``aws_region``; AWS errors become one
line (:mod:`.errors`). ``add_commands(sub)`` in :mod:`.cli` registers the subcommands.
"""
