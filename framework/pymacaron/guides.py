"""``pym docs [TOPIC]``: the guides (deploy, pipeline, image, persist, tasks...) as shipped.

The wheel carries the guides of pymacaron's ``docs/`` as ``pymacaron/guides/*.md`` (setup.py
copies them at build time), so a user of the wheel reads what a message names
(``pym docs deploy``) without this repository. In a source checkout (editable install) they
are read from ``docs/`` itself.
"""

from __future__ import annotations

import os
import re
import sys

__all__ = ["cmd_docs", "guides_dir", "topics", "read_guide", "NOT_GUIDES"]

# pymacaron's own design records: in the repository, not in the wheel
NOT_GUIDES = frozenset({"architecture", "decisions"})


def guides_dir() -> str | None:
    """The directory holding the guides: the wheel's package data, else a checkout's docs/."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (
        os.path.join(here, "guides"),
        os.path.join(os.path.dirname(os.path.dirname(here)), "docs"),
    ):
        if os.path.isdir(candidate) and any(f.endswith(".md") for f in os.listdir(candidate)):
            return candidate
    return None


def topics() -> dict[str, str]:
    """topic -> its first heading (``# Deploying`` -> ``Deploying``)."""
    where = guides_dir()
    out: dict[str, str] = {}
    if where is None:
        return out
    for name in sorted(os.listdir(where)):
        topic, ext = os.path.splitext(name)
        if ext != ".md" or topic in NOT_GUIDES:
            continue
        title = topic
        with open(os.path.join(where, name), encoding="utf-8") as f:
            for line in f:
                if line.startswith("# "):
                    title = line[2:].strip()
                    break
        out[topic] = title
    return out


def read_guide(topic: str) -> str:
    """The text of a guide, its references to another guide (``docs/image.md``) written as
    the command that prints it (``pym docs image``); KeyError when there is no such one."""
    topic = topic.lower().removesuffix(".md").removeprefix("docs/")
    known = topics()
    if topic not in known:
        raise KeyError(topic)
    with open(os.path.join(guides_dir() or "", topic + ".md"), encoding="utf-8") as f:
        text = f.read()
    return _GUIDE_REF.sub(
        lambda m: f"pym docs {m.group(1)}" if m.group(1) in known else m.group(0), text
    )


_GUIDE_REF = re.compile(r"\bdocs/([a-z0-9_-]+)\.md\b")


def cmd_docs(args) -> int:
    """``pym docs [TOPIC]`` (its options: pymacaron/commands/docs.py); no such guide raises
    StartupError (one line, exit 2)."""
    from .exceptions import StartupError

    known = topics()
    if not known:
        raise StartupError("no guides in this installation")
    if not args.topic:
        print("guides (pym docs TOPIC):")
        for topic, title in known.items():
            print(f"  {topic:<12} {title}")
        return 0
    try:
        text = read_guide(args.topic)
    except KeyError:
        raise StartupError(f"no guide {args.topic!r}: expected one of {', '.join(known)}") from None
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `pym docs deploy | head`
        pass
    return 0
