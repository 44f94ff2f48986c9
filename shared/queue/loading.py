"""Find job types in modules named by the JOB_MODULES setting or the worker's `--jobs` option."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from shared.queue.registry import JobRegistry, JobTypes

DEFAULT_ATTRIBUTE = "jobs"
BUILT_IN = "shared.queue.maintenance"  # the queue's own job types, always loaded


def load_job_types(specs: Sequence[str]) -> JobTypes:
    """`module` or `module:attribute` for each spec; the attribute (default `jobs`) is a JobRegistry."""
    registries: list[JobRegistry[Any]] = []
    for spec in [*specs, BUILT_IN]:
        module_name, _, attribute = spec.strip().partition(":")
        module = importlib.import_module(module_name)
        registry = getattr(module, attribute or DEFAULT_ATTRIBUTE, None)
        if not isinstance(registry, JobRegistry):
            raise ValueError(
                f"{spec}: expected a JobRegistry named {attribute or DEFAULT_ATTRIBUTE!r} in {module_name}"
            )
        if registry not in registries:
            registries.append(registry)
    return JobTypes(registries)
