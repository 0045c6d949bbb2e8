"""A scaling edit in pym-config changes exactly the autoscaling options: no replacement."""

from __future__ import annotations

import pytest
import yaml

from pymacaron_kit.template_diff import compare
from tests.infra.infra_helpers import CONFIGS, synthesize

pytestmark = pytest.mark.xdist_group("cdk")


def diff(a, b, path=""):
    """Paths of the leaves that differ between two JSON documents."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [path]


def setting_at(template: dict, path: str) -> tuple[str, dict]:
    """(logical id, option setting) that a diff path ``.Resources.X...OptionSettings[i].Value``
    points into."""
    logical_id = path.split(".")[2]
    index = int(path.split("OptionSettings[")[1].split("]")[0])
    return logical_id, template["Resources"][logical_id]["Properties"]["OptionSettings"][index]


def test_scaling_edit_changes_only_the_autoscaling_options(tmp_path, synthesized):
    base_config = CONFIGS / "service.yaml"
    data = yaml.safe_load(base_config.read_text())
    data["aws_hosts_min"] = 2  # top level: staging inherits it (live overrides its min)
    data["stages"]["live"]["aws_hosts_max"] = 10  # per stage
    edited_config = tmp_path / "pym-config.yaml"
    edited_config.write_text(yaml.safe_dump(data))
    # the same recorded platform as the fixture's (cdk.context.json beside the config)
    (tmp_path / "cdk.context.json").write_text((CONFIGS / "cdk.context.json").read_text())

    base = synthesized  # the session's app: configs/service.yaml
    edited = synthesize(edited_config, tmp_path / "edited", quality_gates=False)

    assert edited.templates["PymService-shared"] == base.templates["PymService-shared"]
    expected = {
        "PymService-staging": {("MinSize", "1", "2")},
        "PymService-live": {("MaxSize", "6", "10")},
    }
    for stack_id, changes in expected.items():
        before, after = base.templates[stack_id], edited.templates[stack_id]
        # same resources under the same logical ids, same types, same platform
        assert {k: r["Type"] for k, r in before["Resources"].items()} == {
            k: r["Type"] for k, r in after["Resources"].items()
        }
        paths = diff(before, after)
        assert paths, "the edit must reach the template"
        seen = set()
        for path in paths:
            assert path.startswith(".Resources.ServiceEnvironment"), path
            assert path.endswith(".Value"), path
            logical_id, setting = setting_at(before, path)
            _, changed = setting_at(after, path)
            assert setting["Namespace"] == "aws:autoscaling:asg", path
            assert changed["OptionName"] == setting["OptionName"]
            seen.add((setting["OptionName"], setting["Value"], changed["Value"]))
            platform = before["Resources"][logical_id]["Properties"]["PlatformArn"]
            assert after["Resources"][logical_id]["Properties"]["PlatformArn"] == platform
        assert seen == changes
    # pym plan reads the same edit as in-place updates only (infra/template_diff.py)
    plans = compare(
        {k: {"stack_name": k, "template": v} for k, v in base.templates.items()},
        {k: {"stack_name": k, "template": v} for k, v in edited.templates.items()},
    )
    actions = {(p.stack_id, c.logical_id, c.action) for p in plans for c in p.changes}
    assert {a for *_, a in actions} == {"modified"}, actions
    assert {s for s, *_ in actions} == {"PymService-staging", "PymService-live"}
