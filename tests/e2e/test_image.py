"""The image itself: non-root, no compiler or cache left in it, nothing secret from the build context
in it, and a code-only change rebuilds on top of the same dependency layer."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.bundle import ROOT, docker, prune_untagged, untagged_images

BUILD_CONTEXT = (
    "Dockerfile",
    ".dockerignore",
    "pyproject.toml",
    "requirements",
    "alembic.ini",
    "migrations",
    "shared",
    "api",
    "worker",
)


def layers(tag: str) -> list[str]:
    layers_json = docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", tag).stdout
    found: list[str] = json.loads(layers_json)
    return found


def test_runs_as_non_root_with_no_compiler_or_cache(shop_image: str) -> None:
    probe = (
        "import os, shutil, sys; "
        "print(os.getuid(), [t for t in ('gcc', 'cc', 'c++', 'make') if shutil.which(t)], "
        "any(os.path.exists(p) for p in ('/root/.cache', '/app/.cache', '/opt/venv/bin/pip')), sys.prefix)"
    )
    out = docker("run", "--rm", "--entrypoint", "python", shop_image, "-c", probe).stdout.split(maxsplit=1)
    assert out[0] == "10001"
    assert out[1].strip() == "[] False /opt/venv"


def copy_context(target: Path) -> Path:
    target.mkdir()
    for name in BUILD_CONTEXT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    return target


def build(context: Path, tag: str) -> list[str]:
    result = subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(context)], capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return layers(tag)


# What a checkout holds beside the code (settings with tokens, databases, git metadata, tests), each
# salted with the canary: none of it may reach the image.
PLANTED = {
    ".env": "ADMIN_TOKEN={canary}\n",
    ".env.production": "ADMIN_TOKEN={canary}\n",
    "shared/.env": "ADMIN_TOKEN={canary}\n",  # beside code the image does copy
    "api/local.db": "{canary}",
    "shared/shop.sqlite3": "{canary}",
    "data/shop.db": "{canary}",
    ".git/config": "[credential]\n\thelper = store {canary}\n",
    "tests/conftest.py": "TOKEN = '{canary}'\n",
}


@dataclass(frozen=True)
class Builds:
    """Two plain `docker build`s of a copy of the build context salted with a canary: `before`, and
    `after` a code-only change."""

    canary: str
    before: str
    after: str


@pytest.fixture(scope="module")
def builds(shop_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    context = copy_context(tmp_path_factory.mktemp("build") / "context")
    canary = f"canary-{secrets.token_hex(12)}"
    for name, text in PLANTED.items():
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text(text.format(canary=canary))
    made = Builds(canary, "shopqueue-e2e:before-change", "shopqueue-e2e:after-change")
    try:
        build(context, made.before)
        with (context / "shared" / "__init__.py").open("a") as handle:
            handle.write("# a code-only change\n")
        build(context, made.after)
        yield made
    finally:
        docker("image", "rm", "-f", made.before, made.after, check=False)
        prune_untagged()
    assert untagged_images() == []  # the builds left nothing untagged behind


def test_a_code_only_change_reuses_the_dependency_layer(builds: Builds) -> None:
    before, after = layers(builds.before), layers(builds.after)
    # The base image, the app user and the venv holding every dependency are the very same
    # layers (the pip install was not re-run); only the layers with our code differ.
    shared_layers = len(layers("python:3.11-slim-bookworm")) + 2
    assert after[:shared_layers] == before[:shared_layers]
    assert after != before  # the change really was built


def files_holding(tag: str, text: str) -> subprocess.CompletedProcess[str]:
    """grep every file of the image for `text` (as root, so no directory is unreadable; the
    kernel's /proc, /sys and /dev aside): exit 1 and no output when no file holds it."""
    grep = ["grep", "-rlF", text, "/", "--exclude-dir=proc", "--exclude-dir=sys", "--exclude-dir=dev"]
    return docker("run", "--rm", "--user", "0", "--entrypoint", grep[0], tag, *grep[1:], check=False, timeout=300)


def test_nothing_secret_in_the_build_context_reaches_the_image(builds: Builds) -> None:
    """Not in a file, the image's environment, its build history or its configuration."""
    search = files_holding(builds.before, builds.canary)
    control = files_holding(builds.before, "def place_order(")
    environment = docker("run", "--rm", "--entrypoint", "env", builds.before).stdout
    history = docker("history", "--no-trunc", builds.before).stdout
    config = docker("image", "inspect", builds.before).stdout

    assert (search.returncode, search.stdout) == (1, ""), search.stdout + search.stderr  # 1: no match
    assert "/app/shared/shop/orders.py" in control.stdout  # the same search does find what is there
    assert builds.canary not in environment + history + config
    assert "ADMIN_TOKEN" not in environment  # no token of any value is baked into the image
