"""The dependency locks (scripts/lock.sh) agree with pyproject.toml, and pin everything with hashes.

requirements/runtime.lock is what the image installs (`pip install --require-hashes`), and
requirements/test.lock what the README's test command installs. Each rule returns the problems it
finds; the real files have none, and every rule is shown to notice a broken copy.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
TEST_LOCK = ROOT / "requirements" / "test.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Test tools that nothing in the image depends on (httpx and pyyaml, also in the test extra, are
# Litestar's own dependencies).
TEST_TOOLS = ("pytest", "hypothesis", "mypy", "ruff", "playwright", "pypdf")
RELOCK = "out of date with pyproject.toml: run scripts/lock.sh"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?: ; [^\\]+)? \\$")
_HASH = re.compile(r"^ {4}--hash=sha256:[0-9a-f]{64}(?: \\)?$")


def pins(lock: str) -> tuple[dict[str, str], list[str]]:
    """The lock's pins (canonical name -> version) and every line that is neither a pin, one of its
    hashes, nor a comment; a pin without a hash is reported too."""
    found: dict[str, str] = {}
    problems: list[str] = []
    current: str | None = None
    hashed: set[str] = set()
    for line in lock.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if pin := _PIN.match(line):
            current = canonicalize_name(pin[1])
            found[current] = pin[2]
        elif _HASH.match(line) and current is not None:
            hashed.add(current)
        else:
            problems.append(f"not an exact pin or a sha256 hash: {line!r}")
    problems += [f"{name} has no hash" for name in found if name not in hashed]
    return found, problems


def _unmet(requirements: list[str], pinned: dict[str, str]) -> list[str]:
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not pinned: {RELOCK}")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} does not satisfy {text!r}: {RELOCK}")
    return problems


def every_line_pinned_with_hashes(lock: str) -> list[str]:
    found, problems = pins(lock)
    return problems or ([] if found else ["no pins at all"])


def runtime_lock_covers_the_dependencies(lock: str) -> list[str]:
    pinned, _ = pins(lock)
    problems = _unmet(PYPROJECT["project"]["dependencies"], pinned)
    problems += [f"{name} is a test tool, not for the image" for name in TEST_TOOLS if name in pinned]
    return problems


def dev_lock_matches_runtime_and_adds_the_test_tools(lock: str) -> list[str]:
    pinned, _ = pins(lock)
    runtime, _ = pins(RUNTIME_LOCK.read_text())
    problems = [
        f"{name}=={version} here, =={runtime[name]} in runtime.lock: {RELOCK}"
        for name, version in pinned.items()
        if name in runtime and runtime[name] != version
    ]
    problems += [f"{name} of runtime.lock is missing: {RELOCK}" for name in runtime if name not in pinned]
    wanted = PYPROJECT["project"]["optional-dependencies"]["test"] + PYPROJECT["build-system"]["requires"]
    return problems + _unmet(wanted, pinned)


RUNTIME_RULES: list[Callable[[str], list[str]]] = [every_line_pinned_with_hashes, runtime_lock_covers_the_dependencies]
TEST_RULES: list[Callable[[str], list[str]]] = [
    every_line_pinned_with_hashes,
    dev_lock_matches_runtime_and_adds_the_test_tools,
]


@pytest.mark.parametrize("rule", RUNTIME_RULES, ids=lambda rule: rule.__name__)
def test_runtime_lock(rule: Callable[[str], list[str]]) -> None:
    assert rule(RUNTIME_LOCK.read_text()) == []


@pytest.mark.parametrize("rule", TEST_RULES, ids=lambda rule: rule.__name__)
def test_test_lock(rule: Callable[[str], list[str]]) -> None:
    assert rule(TEST_LOCK.read_text()) == []


def test_the_lock_script_is_an_executable_strict_bash_script() -> None:
    script = ROOT / "scripts" / "lock.sh"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert "--generate-hashes" in text
    assert os.access(script, os.X_OK)


def _pin(name: str, version: str) -> Callable[[str], str]:
    """Change the version a lock pins `name` to."""

    def mutate(text: str) -> str:
        changed = re.sub(rf"^{name}==[^ ]+", f"{name}=={version}", text, flags=re.MULTILINE)
        assert changed != text
        return changed

    return mutate


def _drop_block(name: str) -> Callable[[str], str]:
    """Remove `name` and its hashes from a lock, as if it had never been locked."""

    def mutate(text: str) -> str:
        changed = re.sub(rf"^{name}==.*?(?=^\S)", "", text, flags=re.MULTILINE | re.DOTALL)
        assert changed != text
        return changed

    return mutate


def _unhash(name: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        changed = re.sub(rf"^({name}==[^ ]+)[^\n]*\n(?: +--hash[^\n]*\n)+", r"\1\n", text, flags=re.MULTILINE)
        assert changed != text
        return changed

    return mutate


def _add(pin: str) -> Callable[[str], str]:
    """Add a pin, with a hash, to a lock."""
    return lambda text: f"{text}{pin} \\\n    --hash=sha256:{'0' * 64}\n"


BREAKS: list[tuple[Path, Callable[[str], list[str]], Callable[[str], str]]] = [
    (RUNTIME_LOCK, every_line_pinned_with_hashes, _unhash("litestar")),
    (RUNTIME_LOCK, every_line_pinned_with_hashes, lambda text: text + "requests>=2\n"),
    (RUNTIME_LOCK, every_line_pinned_with_hashes, lambda text: text + "-e .\n"),
    (RUNTIME_LOCK, runtime_lock_covers_the_dependencies, _drop_block("cronsim")),
    (RUNTIME_LOCK, runtime_lock_covers_the_dependencies, _pin("litestar", "1.51.0")),
    (RUNTIME_LOCK, runtime_lock_covers_the_dependencies, _add("pytest==9.2.0")),
    (TEST_LOCK, dev_lock_matches_runtime_and_adds_the_test_tools, _pin("sqlalchemy", "2.0.36")),
    (TEST_LOCK, dev_lock_matches_runtime_and_adds_the_test_tools, _drop_block("pypdf")),
    (TEST_LOCK, dev_lock_matches_runtime_and_adds_the_test_tools, _drop_block("setuptools")),
    (TEST_LOCK, dev_lock_matches_runtime_and_adds_the_test_tools, _drop_block("msgspec")),
]


@pytest.mark.parametrize(("lock", "rule", "mutate"), BREAKS, ids=lambda x: getattr(x, "__name__", ""))
def test_a_rule_notices_a_broken_lock(
    lock: Path, rule: Callable[[str], list[str]], mutate: Callable[[str], str]
) -> None:
    assert rule(mutate(lock.read_text())) != []


def test_every_rule_has_a_break() -> None:
    assert set(RUNTIME_RULES) | set(TEST_RULES) <= {rule for _, rule, _ in BREAKS}
