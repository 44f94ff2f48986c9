"""The README's "Your own job types" example, taken from the README itself: a module of the user's,
enqueued with the installed `shopqueue` command and run by `python -m worker --jobs mypkg.tasks`."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from shared.config import Settings
from shared.db import Database
from tests.support.processes import ROOT, child_env, run_worker_burst
from tests.support.queue import query


def readme_example() -> tuple[str, list[str]]:
    """The module's code, and the `shopqueue enqueue ...` command the README gives for it."""
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n# mypkg/tasks\.py\n(.*?)```", readme, re.S)
    command = re.search(r"`(shopqueue enqueue resize_image '[^`]*')`", readme.replace("\n", " "))
    assert code is not None, "README: the mypkg/tasks.py example is gone"
    assert command is not None, "README: the shopqueue enqueue example is gone"
    return code.group(1), shlex.split(command.group(1))


def test_the_readme_example_job_type_is_enqueued_and_run(settings: Settings, db: Database, tmp_path: Path) -> None:
    code, command = readme_example()
    package = tmp_path / "src" / "mypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(code)
    env = {"PYTHONPATH": f"{tmp_path / 'src'}:{ROOT}"}

    shopqueue = Path(sys.executable).parent / command[0]
    enqueued = subprocess.run(
        [str(shopqueue), *command[1:]],
        env=child_env(settings, JOB_MODULES="shared.shop.jobs,mypkg.tasks", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert enqueued.returncode == 0, enqueued.stderr
    assert query(db, "SELECT type, payload, status FROM jobs") == [
        ("resize_image", '{"image":"a.png","width":200}', "pending")
    ]

    run = run_worker_burst(settings, "--jobs", "mypkg.tasks", PYTHONPATH=env["PYTHONPATH"])
    assert run.returncode == 0, run.stderr
    assert query(db, "SELECT status, attempts, max_attempts FROM jobs") == [("completed", 1, 3)]
