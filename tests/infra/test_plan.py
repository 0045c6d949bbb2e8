"""`pym plan`: added, removed, modified and REPLACED resources, offline (infra/template_diff.py).

The base side is the session's synthesized fixture; each edit is one extra synth (no
quality gates). One end-to-end test runs the command itself against a git ref.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess

import pytest
import yaml

from pymacaron.commands import plan as plan_commands
from pymacaron_kit import template_diff as plan
from tests.infra.infra_helpers import CONFIGS, ROOT, synthesize

pytestmark = pytest.mark.xdist_group("cdk")


def assembly(s) -> dict:
    return plan.load_assembly(s.outdir)


def edited(tmp_path, change, context=None):
    data = yaml.safe_load((CONFIGS / "service.yaml").read_text())
    change(data)
    (tmp_path / "pym-config.yaml").write_text(yaml.safe_dump(data))
    record = json.loads((CONFIGS / "cdk.context.json").read_text())
    if context:
        record["pym:platform"].update(context)
    (tmp_path / "cdk.context.json").write_text(json.dumps(record))
    return synthesize(tmp_path / "pym-config.yaml", tmp_path / "cdk.out", quality_gates=False)


def changes(plans) -> dict[tuple[str, str], plan.Change]:
    return {(p.stack_id, c.logical_id): c for p in plans for c in p.changes}


def test_schemas_come_from_cfn_lint():
    assert ("EnvironmentName",) in plan.create_only("AWS::ElasticBeanstalk::Environment")
    assert ("SolutionStackName",) in plan.create_only("AWS::ElasticBeanstalk::Environment")
    assert ("PlatformArn",) not in plan.create_only("AWS::ElasticBeanstalk::Environment")
    assert ("Tier", "Name") in plan.create_only("AWS::ElasticBeanstalk::Environment")
    assert plan.name_properties("AWS::ElasticBeanstalk::Environment") == ["EnvironmentName"]
    assert plan.name_properties("AWS::SQS::Queue") == ["QueueName"]
    assert plan.name_properties("AWS::ElasticBeanstalk::ApplicationVersion") == []


def _env(**props):
    base = {"ApplicationName": "svc", "EnvironmentName": "svc-live", "PlatformArn": "a/1"}
    return {"Type": "AWS::ElasticBeanstalk::Environment", "Properties": {**base, **props}}


def test_create_only_changes_replace_and_a_fixed_name_makes_them_fail():
    change = plan.compare_resource("E", _env(SolutionStackName="v1"), _env(SolutionStackName="v2"))
    assert change.action == plan.REPLACED and change.properties == ["SolutionStackName"]
    assert "custom-named resource requires replacing" in change.fails
    nested = plan.compare_resource(
        "E", _env(Tier={"Name": "WebServer"}), _env(Tier={"Name": "Worker"})
    )
    assert nested.action == plan.REPLACED and nested.properties == ["Tier/Name"]
    assert plan.compare_resource("E", _env(), _env(PlatformArn="a/2")).action == plan.MODIFIED
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "a"}}
    renamed = plan.compare_resource("Q", queue, {**queue, "Properties": {"QueueName": "b"}})
    assert renamed.action == plan.REPLACED and renamed.fails is None  # a new name: it works


def test_a_new_resource_taking_a_removed_ones_name_fails():
    old = {"stack_name": "s", "template": {"Resources": {"Old": _env()}}}
    new = {"stack_name": "s", "template": {"Resources": {"New": _env()}}}
    (stack,) = plan.compare({"S": old}, {"S": new})
    by_id = {c.logical_id: c for c in stack.changes}
    assert by_id["Old"].action == plan.REMOVED and by_id["New"].action == plan.ADDED
    assert "creates the new resource before it deletes" in by_id["New"].fails


def test_a_scaling_edit_plans_no_replacement(synthesized, tmp_path):
    after = edited(tmp_path, lambda d: d["stages"]["live"].update(aws_hosts_max=12))
    plans = plan.compare(assembly(synthesized), assembly(after))
    found = changes(plans)
    assert {c.action for c in found.values()} == {plan.MODIFIED}
    ((stack, _), change) = next(iter(found.items()))
    assert stack == "PymService-live" and change.properties == ["OptionSettings"]
    assert not any(p.fails for p in plans)
    assert "0 replaced; 0 would fail" in plan.render(plans, "t")


def test_a_platform_version_change_is_in_place(synthesized, tmp_path):
    after = edited(tmp_path, lambda d: None, context={"version": "4.9.0"})
    found = changes(plan.compare(assembly(synthesized), assembly(after)))
    envs = {k: c for k, c in found.items() if c.type == "AWS::ElasticBeanstalk::Environment"}
    assert {s for s, _ in envs} == {"PymService-staging", "PymService-live"}
    for change in envs.values():
        assert change.action == plan.MODIFIED and change.properties == ["PlatformArn"]
    assert set(found) == set(envs)


def test_renaming_the_service_is_a_failing_replacement(synthesized, tmp_path):
    after = edited(tmp_path, lambda d: d.update(name="othersvc"))
    plans = plan.compare(assembly(synthesized), assembly(after))
    live = next(p for p in plans if p.stack_id == "PymService-live")
    assert live.renamed and (live.old_name, live.new_name) == ("testsvc-live", "othersvc-live")
    env = next(c for c in live.changes if c.type == "AWS::ElasticBeanstalk::Environment")
    assert env.action == plan.REPLACED
    assert "EnvironmentName" in env.properties and "ApplicationName" in env.properties
    assert "testsvc-live keeps the old resource running" in env.fails
    text = plan.render(plans, "t")
    assert "RENAMED" in text and "FAILS:" in text
    # the network is shared by name, not renamed with the service
    assert not next(p for p in plans if p.stack_id == "PymService-network").changes


def test_pym_plan_against_a_git_ref_end_to_end(tmp_path, capsys, monkeypatch):
    """The subcommand itself: a repository, a commit, a scaling edit in the working tree."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copytree(ROOT / "infra", repo / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    # the repository's app.py without the cdk-nag gate (covered elsewhere): a faster synth
    app = (ROOT / "app.py").read_text()
    assert "build_app(app, exit_on_error=True)" in app
    (repo / "app.py").write_text(
        app.replace("exit_on_error=True)", "exit_on_error=True, quality_gates=False)")
    )
    shutil.copy(ROOT / "cdk.json", repo / "cdk.json")
    config = (
        "name: plansvc\naws_region: eu-west-1\nvpc: {id: vpc-0abc, public_subnets: [subnet-0a]}\n"
    )
    (repo / "pym-config.yaml").write_text(config)

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    (repo / "pym-config.yaml").write_text(config + "aws_hosts_max: 5\n")
    monkeypatch.chdir(repo)
    parser = argparse.ArgumentParser()
    plan_commands.add_commands(parser.add_subparsers())
    args = parser.parse_args(["plan"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("pym plan: working tree against HEAD (")
    assert "~ ServiceEnvironment" in out and "modified (OptionSettings)" in out
    assert "0 replaced; 0 would fail" in out
    # an unknown ref is a one-line usage error
    from pymacaron.exceptions import StartupError

    with pytest.raises(StartupError, match="unknown git ref"):
        args = parser.parse_args(["plan", "--against", "nope"])
        args.func(args)
    # a ref the kit no longer synthesizes gives no plan, and why, but does not fail
    (repo / "pym-config.yaml").write_text("name: Bad Name\n")
    git("commit", "-q", "-am", "broken")
    (repo / "pym-config.yaml").write_text(config)
    args = parser.parse_args(["plan"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "no plan, the ref does not synthesize" in out and "name" in out


def test_a_modified_option_setting_is_named_with_its_old_and_new_value(synthesized, tmp_path):
    """`modified (OptionSettings)` alone hid which Beanstalk setting changed and how."""
    after = edited(tmp_path, lambda d: d["stages"]["live"].update(aws_hosts_max=12))
    plans = plan.compare(assembly(synthesized), assembly(after))
    ((_, change),) = changes(plans).items()
    old = plan._options(
        next(
            r
            for r in synthesized.templates["PymService-live"]["Resources"].values()
            if r["Type"] == "AWS::ElasticBeanstalk::Environment"
        )["Properties"]["OptionSettings"]
    )["aws:autoscaling:asg:MaxSize"]
    assert change.details == [f"~ aws:autoscaling:asg:MaxSize: {old} -> 12"]
    assert f"      ~ aws:autoscaling:asg:MaxSize: {old} -> 12" in plan.render(plans, "t")


def test_option_changes_show_added_removed_and_long_values_cut():
    before = [{"Namespace": "a", "OptionName": "X", "Value": "1"},
              {"Namespace": "b", "OptionName": "Y", "Value": "y" * 200}]  # fmt: skip
    after = [{"Namespace": "b", "OptionName": "Y", "Value": "z" * 200},
             {"Namespace": "c", "OptionName": "Z", "ResourceName": "R", "Value": "3"}]  # fmt: skip
    lines = plan.option_changes(before, after)
    assert lines[0] == "- a:X (was 1)"
    assert lines[1].startswith("~ b:Y: yyy") and lines[1].endswith("...") and len(lines[1]) < 160
    assert lines[2] == "+ c:Z (R) = 3"
