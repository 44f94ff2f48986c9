#!/usr/bin/env bash
# Lock every dependency to an exact version and the sha256 of each of its files:
#   requirements/runtime.lock  [project].dependencies: what the image installs (Dockerfile)
#   requirements/test.lock     the same pins, plus the `test` extra and the build backend
#                              ([build-system].requires): what the README's test command installs
# Run it after changing dependencies in pyproject.toml, and commit both files:
#   scripts/lock.sh              keep the current pins where pyproject.toml still allows them
#   scripts/lock.sh --upgrade    move every pin to the newest release allowed
#   scripts/lock.sh -P NAME      move one package (any `uv pip compile` option passes through)
# The resolution is universal (any OS, Python 3.11 and newer), so the files are the same whoever
# runs this, and hold every published file's hash: pip on Linux, macOS or Windows finds its own.
set -euo pipefail

UV_VERSION=0.13.9
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# uv, pinned, in a throw-away virtual environment: nothing is installed anywhere else.
TOOL=$(mktemp -d)
trap 'rm -rf "$TOOL"' EXIT
python3 -m venv "$TOOL/venv"
"$TOOL/venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"

compile() {  # compile OUTPUT INPUT... [OPTIONS]: one lock file
  local output=$1; shift
  "$TOOL/venv/bin/uv" pip compile --quiet --generate-hashes --universal --python-version 3.11 \
    --custom-compile-command "scripts/lock.sh" --output-file "$output" "$@"
}

compile requirements/runtime.lock pyproject.toml "$@"
# The test lock takes the runtime pins as constraints, so the tests run on exactly what ships; the
# build backend comes in through stdin (`-`), read from pyproject.toml's [build-system].
python3 -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' |
  compile requirements/test.lock pyproject.toml - --extra test --constraints requirements/runtime.lock "$@"
echo "locked: requirements/runtime.lock requirements/test.lock"
