"""Measured differences against COMPAT.md's "Differences from 0.3.2".

Every difference the suite observes must have a row with a written reason;
every row of a checked kind must still be observed (a fixed difference
leaves a stale row behind, and the document would silently rot)."""

from __future__ import annotations

import pytest

from .compat_doc import DIFFERENCES, TODO, CompatDoc


def judge(doc: CompatDoc, kind: str, observed: dict[str, str]) -> list[str]:
    """``observed``: {item: what was seen}.  Returns the complaints."""
    complaints = []
    for item, seen in sorted(observed.items()):
        row = doc.lookup(DIFFERENCES, kind, item)
        if row is None:
            complaints.append(f"not documented: | {kind} | `{item}` |  ({seen})")
        elif not row.decided:
            complaints.append(f"COMPAT.md:{row.line}: {kind} `{item}` has no decided reason "
                              f"yet ({TODO}): {seen}")
    for item, row in sorted(doc.items(DIFFERENCES, kind).items()):
        if item not in observed:
            complaints.append(f"COMPAT.md:{row.line}: stale row: {kind} `{item}` is not a "
                              "difference any more (or names nothing); remove the row")
    return complaints


def verdict(complaints: list[str]) -> str:
    return (f"{len(complaints)} problem(s):\n" + "\n".join(complaints) +
            f"\nFix each difference, or give it a row with its reason in COMPAT.md, "
            f"section '{DIFFERENCES}'.")


def fail_unless_clean(complaints: list[str]) -> None:
    if complaints:
        pytest.fail(verdict(complaints), pytrace=False)
