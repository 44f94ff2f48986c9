"""Print the mutation score per module from mutmut's results in mutants/ (scripts/mutation.sh)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

HEADER = f"{'module':<34} {'total':>6} {'killed':>6} {'surv':>5} {'t/out':>5} {'none':>5} {'other':>5} {'score':>6}"


def main() -> int:
    lines = [HEADER]
    survivors: list[str] = []
    total: Counter[str] = Counter()
    for meta in sorted(Path("mutants").glob("shared/**/*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        counts = Counter(status_by_exit_code[code] for code in codes.values())
        total.update(counts)
        lines.append(_line(str(meta.relative_to("mutants"))[: -len(".meta")], counts))
        survivors += sorted(name for name, code in codes.items() if status_by_exit_code[code] == "survived")
    lines += [_line("queue core", total), f"\nsurvivors ({len(survivors)}):", *(f"  {name}" for name in survivors)]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _line(module: str, counts: Counter[str]) -> str:
    killed, survived, timeout = counts["killed"], counts["survived"], counts["timeout"]
    untested, unchecked = counts["no tests"], counts["not checked"]
    other = sum(counts.values()) - killed - survived - timeout - untested - unchecked
    checked = killed + survived + timeout + untested
    # A timeout counts as killed (the mutant hangs the suite); a mutant no test reaches, as survived.
    score = f"{100 * (killed + timeout) / checked:5.1f}%" if checked else "     -"
    figures = f"{sum(counts.values()):>6} {killed:>6} {survived:>5} {timeout:>5} {untested:>5} {other:>5}"
    return f"{module:<34} {figures} {score}" + (f"  ({unchecked} not checked)" if unchecked else "")


if __name__ == "__main__":
    sys.exit(main())
