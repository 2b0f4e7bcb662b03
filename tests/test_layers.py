"""Imports run one way (README "Layout"), checked by import-linter's contracts in pyproject.toml:
the shell on top, the services side by side, then core, then schemas; inside streams, stories and
alerts never import each other; the WebSub callback server does not import its subscriber (no
circle between the two). The second test proves the check bites."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("watchfloor", "connectors", "streams", "desk", "core", "schemas")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", "--config", str(root / "pyproject.toml")],
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def test_every_import_contract_holds_on_the_tree():
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "wrong_import", "broken"), [
    ("connectors/base.py", "import desk.store", "Imports run downwards"),
    ("core/errors.py", "import streams.stage", "Imports run downwards"),
    ("schemas/base.py", "import core.ids", "Imports run downwards"),
    ("streams/stories/grouping.py", "import streams.alerts.build", "Inside streams"),
    ("streams/rules/engine.py", "import streams.classify", "Inside streams"),
    ("connectors/websub_callback.py", "import connectors.websub", "The WebSub callback server"),
])
def test_a_wrong_way_import_breaks_the_check(tmp_path, module, wrong_import, broken):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "json"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a") as f:
        f.write(f"\n{wrong_import}  # the wrong way\n")
    result = lint(tmp_path)
    assert result.returncode != 0, result.stdout
    assert broken in result.stdout and "BROKEN" in result.stdout
    assert wrong_import.split()[-1] in result.stdout, result.stdout
