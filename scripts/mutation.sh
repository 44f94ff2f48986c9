#!/usr/bin/env bash
# Mutation testing of the queue core (docs/mutation.md): mutmut mutates shared/queue/ (config in
# pyproject.toml, [tool.mutmut]) and, per mutant, runs the in-process SQLite tests that reached the
# mutated function. Not part of CI: store, cron, producer, limits, aging, policy and operations
# took about 75 minutes on one core (docs/mutation.md); the whole of shared/queue/ would take longer.
#
#   bash scripts/mutation.sh                       # every mutant not yet checked (resumes a run)
#   bash scripts/mutation.sh 'shared.queue.store.*'  # (re)check these mutants only
#
# Niced, one child: it shares the machine. Results stay in mutants/ (git-ignored): delete it to
# start afresh; `.venv/bin/mutmut show NAME` prints one mutant's diff.
set -euo pipefail
cd "$(dirname "$0")/.."
nice -n 19 .venv/bin/mutmut run --max-children 1 "$@"
.venv/bin/python scripts/mutation_score.py
