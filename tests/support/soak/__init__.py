"""The chaos soak: real API and worker processes on one SQLite file, orders placed under load while
workers are killed and stopped, the write lock is held from outside and the disk fills up; then an
audit of what the database, the providers and the clients saw. Used by tests/soak (a short run in
the default pytest run) and bench/soak.py (the long run, with figures)."""

from tests.support.soak.plan import SoakPlan
from tests.support.soak.run import SoakReport, run_soak

__all__ = ["SoakPlan", "SoakReport", "run_soak"]
