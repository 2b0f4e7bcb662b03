"""The command line: help lists every command; bad settings stop start-up with one line."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "watchfloor", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_each_subcommand_with_a_description():
    out = run_cli("--help").stdout
    for command in ("version", "broker", "topics", "worker", "run", "schemas"):
        line = next((row for row in out.splitlines() if row.strip().startswith(command + " ")), None)
        assert line is not None, f"{command} missing from --help"
        assert len(line.split(None, 1)[1]) > 10, f"{command} has no description"


def test_version_prints_the_package_version():
    from core import __version__

    assert run_cli("version").stdout.strip() == f"watchfloor {__version__}"


def test_invalid_setting_stops_with_one_line_naming_the_variable():
    result = run_cli("topics", "list", env={"WATCHFLOOR_TOPIC_PARTITIONS": "many"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "WATCHFLOOR_TOPIC_PARTITIONS" in lines[0] and "integer" in lines[0]


def test_secret_settings_are_not_echoed_in_errors():
    result = run_cli("topics", "list", env={"WATCHFLOOR_KAFKA_SASL_MECHANISM": "NOPE",
                                            "WATCHFLOOR_KAFKA_SASL_PASSWORD": "hunter2-secret"})
    assert result.returncode == 2
    assert "hunter2-secret" not in result.stderr
    assert "WATCHFLOOR_KAFKA_SASL_MECHANISM" in result.stderr


def test_invalid_yaml_config_file_is_named(tmp_path):
    config = tmp_path / "watchfloor.yaml"
    config.write_text("web_port: seventy\n")
    result = run_cli("topics", "list", env={"WATCHFLOOR_CONFIG": str(config)})
    assert result.returncode == 2
    assert "WEB_PORT" in result.stderr.upper() and len(result.stderr.strip().splitlines()) == 1


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    # `watchfloor eval | head -1`: the pipe closes after one line; the command stops without a traceback.
    # Every miss listed makes ~140 KB, more than a pipe holds (64 KB), so the command is still writing when
    # the reader goes.
    proc = subprocess.Popen([sys.executable, "-m", "watchfloor", "eval", "--show", "100000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ.copy())
    first = proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"macro F1" in first
    assert proc.returncode == 141 and b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
