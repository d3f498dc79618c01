"""The results table of COMPAT.md, from a real run of the suite.

    python -m interpreter_tests.conformance.report          # run, print the table
    python -m interpreter_tests.conformance.report --write  # run, update COMPAT.md
    python -m interpreter_tests.conformance.report --from results.json [--write]

A run is ``pytest interpreter_tests/conformance`` with SEAMLESS_CONFORMANCE_RESULTS
naming the file where the session fixtures save what they measured; the
table is rendered from that file, whatever the run's own verdict.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from . import compat_doc, pins
from .cache import REPO
from .signatures import compare

# where a run saves what it measured (read by the conftest at session end)
RESULTS_ENV = "SEAMLESS_CONFORMANCE_RESULTS"


def plain(results) -> dict:
    """Live fixture values in the JSON form a saved run has."""
    return json.loads(json.dumps(results, default=lambda v: v.__dict__))


def render(results: dict) -> str:
    parts = [_header()]
    if "own" in results:
        parts.append(own_table(results["own"]))
    if "clients" in results:
        parts.append(client_table(results["clients"]))
    if "api" in results:
        parts.append(api_table(results["api"]))
    if "e2e" in results:
        parts.append(e2e_table(results["e2e"]))
    return "\n\n".join(parts) + "\n"


def _header() -> str:
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                            "seamless_config"], capture_output=True, text=True).stdout.strip()
    stack = ", ".join(pins.requirement(n) for n in (*pins.SDISTS, *pins.STACK))
    return (f"Measured {datetime.date.today().isoformat()} on commit {commit}"
            f"{' (with uncommitted changes in seamless_config/)' if dirty else ''}, "
            f"Python {platform.python_version()}. "
            f"\"0.3.2\" is the side venv ({stack}); \"ours\" is this checkout in the main "
            "environment with the same runtime.")


def own_lines(own: dict) -> list[str]:
    """The rows that must match every later run (they are deterministic
    unit tests); ``test_compat_doc`` checks them."""
    items = own["items"]
    lines = ["| 0.3.2 test (each in its own process) | ours | 0.3.2 |", "|---|---|---|"]
    for node, item in items.items():
        lines.append(f"| `{node}` | {_cell(item['ours'])} | {_cell(item['theirs'])} |")
    ours = sum(i["ours"]["status"] == "passed" for i in items.values())
    theirs = sum(i["theirs"]["status"] == "passed" for i in items.values())
    lines.append(f"| **passed** | **{ours}/{len(items)}** | **{theirs}/{len(items)}** |")
    return lines


def own_table(own: dict) -> str:
    return "### 0.3.2's own tests\n\n" + "\n".join(own_lines(own))


def _cell(outcome: dict) -> str:
    return outcome["status"]


def client_table(clients: list[dict]) -> str:
    lines = ["### Client test files that touch seamless_config", "",
             "| Client | File | items | passed (ours) | passed (0.3.2) | regressions | flaky |",
             "|---|---|---|---|---|---|---|"]
    total = Counter()
    for result in clients:
        items = result["items"].values()
        row = Counter(items=len(items),
                      ours=sum(i["ours"]["status"] == "passed" for i in items),
                      theirs=sum(i["theirs"]["status"] == "passed" for i in items),
                      regressions=sum(_regression(i) for i in items),
                      flaky=sum(bool(i["flaky"]) for i in items))
        total.update(row)
        lines.append(f"| {result['dist']} | `{result['file']}` | {row['items']} | {row['ours']} "
                     f"| {row['theirs']} | {row['regressions']} | {row['flaky']} |")
    lines.append(f"| **total** | {len(clients)} files | **{total['items']}** | "
                 f"**{total['ours']}** | **{total['theirs']}** | **{total['regressions']}** "
                 f"| {total['flaky']} |")
    lines += ["", "A regression is an item that passes on 0.3.2 and not on ours. An item "
              "whose outcome differs between the two is run again alone on both and counts "
              "as passed where either attempt passed; those are the flaky ones."]
    return "\n".join(lines)


def _regression(item: dict) -> bool:
    return item["theirs"]["status"] == "passed" and item["ours"]["status"] != "passed"


def api_table(api: dict) -> str:
    problems = compare(api["0.3.2"], api["ours"])
    lines = ["### Public API of 0.3.2", "",
             "| Module | public names in 0.3.2 | absent here | incompatible here |",
             "|---|---|---|---|"]
    for module, names in api["0.3.2"].items():
        count = len([n for n in names if n != "__error__"])
        tops = {p.name: _top_name(p.name, api["0.3.2"]) for p in problems}
        mine = [p for p in problems if tops[p.name][0] == module]
        absent = {tops[p.name] for p in mine if p.name == ".".join(tops[p.name])
                  and p.kind == "absent name"}
        bad = {tops[p.name] for p in mine} - absent
        lines.append(f"| `{module}` | {count} | {len(absent)} | {len(bad)} |")
    lines += ["", "A name is incompatible when a parameter, method or field of it differs; "
              "it counts once however many do (the rows under \"Differences from 0.3.2\" "
              "say which)."]
    return "\n".join(lines)


def e2e_table(e2e: dict) -> str:
    """Scenario rows, one column per stack (test_cli_e2e.STACKS)."""
    stacks, rows = [], {}
    for key, outcome in e2e.items():
        scenario, stack = key[:-1].split("[", 1)
        stacks += [stack] if stack not in stacks else []
        rows.setdefault(scenario, {})[stack] = outcome
    lines = ["### seamless-transformer's CLIs end to end", "",
             "| Scenario | " + " | ".join(stacks) + " |", "|---" * (len(stacks) + 1) + "|"]
    for scenario, found in rows.items():
        name = scenario.removeprefix("test_").replace("_", " ")
        lines.append(f"| {name} | " + " | ".join(found.get(s, "not run") for s in stacks) + " |")
    lines += ["", "ours-0.3.2-file: ours, with the seamless.yaml a 0.3.2 user wrote "
              "(`local_cluster:` in the inline `clusters:`, `conda: null` for the jobserver)."]
    return "\n".join(lines)


def _top_name(qualified: str, modules: dict) -> tuple[str, str]:
    """(module, public name) of ``module.name`` or ``module.Class.method``:
    the longest module that prefixes it."""
    module = max((m for m in modules if qualified.startswith(m + ".")), key=len)
    return module, qualified[len(module) + 1:].split(".")[0]


def run_suite(results_file: Path) -> int:
    env = {**os.environ, RESULTS_ENV: str(results_file)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "interpreter_tests/conformance"], cwd=str(REPO), env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interpreter_tests.conformance.report")
    parser.add_argument("--write", action="store_true", help="update COMPAT.md")
    parser.add_argument("--from", dest="source", type=Path,
                        help="render a saved run instead of running the suite")
    args = parser.parse_args(argv)
    if args.source is None:
        with tempfile.TemporaryDirectory() as folder:
            args.source = Path(folder) / "results.json"
            code = run_suite(args.source)
            print(f"[report] the suite exited with {code}", file=sys.stderr)
            if not args.source.exists():
                print("[report] the run saved no results", file=sys.stderr)
                return 1
            results = json.loads(args.source.read_text())
    else:
        results = json.loads(args.source.read_text())
    table = render(results)
    if not args.write:
        print(table)
        return 0
    doc = compat_doc.load()
    compat_doc.PATH.write_text(doc.with_results(table))
    print(f"[report] wrote the results into {compat_doc.PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
