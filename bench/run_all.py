"""Run every benchmark script in turn (their full output is printed as they go), then print one summary
table of every figure: figure | ours | peer | ratio | target | met.

"met" is a reading of the figure against the team's target, never an assertion: this script exits 0
whatever the figures are (non-zero only if a script itself failed).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib

SCRIPTS = ("drain.py", "pipeline.py", "enqueue.py", "latency.py", "api_load.py")


def figure_number(figure: benchlib.Figure) -> int:
    match = re.match(r"(\d+)\.", figure.figure)
    return int(match[1]) if match else 99


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--only", default=",".join(SCRIPTS), help=f"scripts to run (default {','.join(SCRIPTS)})")
    args = parser.parse_args()
    scripts = [s.strip() for s in args.only.split(",") if s.strip()]
    for script in scripts:
        if script not in SCRIPTS:
            parser.error(f"unknown script {script!r}")
    benchlib.header("run_all.py", args, {"scripts": ", ".join(scripts)})
    figures: list[benchlib.Figure] = []
    failed: list[str] = []
    timings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="shopqueue-bench-all-") as tmp:
        for script in scripts:
            out = Path(tmp) / f"{script}.json"
            command = [
                sys.executable,
                str(benchlib.BENCH_DIR / script),
                "--backend",
                args.backend,
                "--summary-json",
                str(out),
            ]
            if args.quick:
                command.append("--quick")
            if args.keep:
                command.append("--keep")
            print(f"\n$ python bench/{' '.join([script, *command[2:]])}", flush=True)
            started = time.monotonic()
            code = subprocess.run(command, check=False).returncode
            timings.append(f"{script} {time.monotonic() - started:.0f} s")
            if code != 0 or not out.exists():
                failed.append(f"{script} (exit {code})")
                continue
            figures.extend(benchlib.read_summary(out))
    figures.sort(key=figure_number)
    print()
    print("=" * 100)
    print(f"machine: {benchlib.machine()}")
    print("durations: " + ", ".join(timings))
    benchlib.print_summary(figures, args.summary_json)
    if failed:
        print("\nscripts that failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
