"""The image itself: non-root, no compiler or cache left in it, and a code-only change rebuilds on top
of the same dependency layer."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

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


def test_a_code_only_change_reuses_the_dependency_layer(shop_image: str, tmp_path: Path) -> None:
    context = copy_context(tmp_path / "context")
    tags = ("shopqueue-e2e:before-change", "shopqueue-e2e:after-change")
    try:
        before = build(context, tags[0])
        with (context / "shared" / "__init__.py").open("a") as handle:
            handle.write("# a code-only change\n")
        after = build(context, tags[1])
        # The base image, the app user and the venv holding every dependency are the very same
        # layers (the pip install was not re-run); only the layers with our code differ.
        shared_layers = len(layers("python:3.11-slim-bookworm")) + 2
        assert after[:shared_layers] == before[:shared_layers]
        assert after != before  # the change really was built
    finally:
        docker("image", "rm", "-f", *tags, check=False)
        prune_untagged()
    assert untagged_images() == []  # the builds left nothing untagged behind
