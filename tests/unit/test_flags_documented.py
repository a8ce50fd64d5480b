"""Every flag the reading code can raise is explained to reviewers in docs/FLAGS.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FLAG = re.compile(r"^[a-z]+(_[a-z]+)+$")


def _raised_flags() -> set[str]:
    """String constants appended to, or put in, something named ``*flags`` in hdr/."""
    found: set[str] = set()
    for path in (REPO / "hdr").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id.endswith("flags")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return {f for f in found if FLAG.match(f)}


def test_every_raised_flag_is_documented() -> None:
    doc = (REPO / "docs" / "FLAGS.md").read_text(encoding="utf-8")
    raised = _raised_flags()
    assert len(raised) >= 15  # the scan finds the flags at all
    missing = sorted(f for f in raised if f"`{f}`" not in doc)
    assert not missing, f"explain these in docs/FLAGS.md: {missing}"


def test_informational_flags_are_documented_as_such() -> None:
    from hdr.config import DecisionConfig

    doc = (REPO / "docs" / "FLAGS.md").read_text(encoding="utf-8")
    informational = doc.split("## Informational")[1].split("## Blocking")[0]
    for flag in DecisionConfig().informational_flags:
        assert f"`{flag}`" in informational, flag
