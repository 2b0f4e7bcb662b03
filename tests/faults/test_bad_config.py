"""A malformed rule pack, sources file or setting: ``watchfloor run`` exits 2 with one line naming
the file and line or the field, before it starts anything (no broker, no child process)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from watchfloor.broker import free_port, port_in_use

BAD_PACK = """name: broken
themes:
  - id: escalation
    threshold: 1
    terms:
      nuclear: 1
    colour: red
"""

BAD_SOURCES = """sources:
  - {id: wire, type: rss, url: "http://127.0.0.1:9/feed"}
  - {id: fax-line, type: fax, url: "http://127.0.0.1:9/fax"}
"""


def run_watchfloor_run(tmp_path, **env) -> tuple[subprocess.CompletedProcess, int]:
    port = free_port()
    full_env = {**os.environ, "WATCHFLOOR_EMBEDDED_KAFKA_PORT": str(port), "WATCHFLOOR_WEB_PORT": str(free_port()),
                "WATCHFLOOR_DATA_DIR": str(tmp_path / "data"), **env}
    full_env.pop("WATCHFLOOR_KAFKA_BOOTSTRAP", None)
    result = subprocess.run([sys.executable, "-m", "watchfloor", "run"], env=full_env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    return result, port


@pytest.mark.parametrize("case", ["rules", "sources", "setting"])
def test_run_with_a_malformed_config_exits_2_naming_it_and_starts_nothing(tmp_path, case):
    (tmp_path / "rules.yaml").write_text(BAD_PACK)
    (tmp_path / "sources.yaml").write_text(BAD_SOURCES)
    env, expected = {
        "rules": ({"WATCHFLOOR_RULES_PATH": str(tmp_path / "rules.yaml")},
                  f"{tmp_path / 'rules.yaml'}:7 (themes[0].colour): Extra inputs are not permitted"),
        "sources": ({"WATCHFLOOR_SOURCES_PATH": str(tmp_path / "sources.yaml")},
                    f"{tmp_path / 'sources.yaml'}: sources[1] (fax-line).type: Input should be 'rss' or 'telegram'"),
        "setting": ({"WATCHFLOOR_TOPIC_PARTITIONS": "0"}, "invalid setting WATCHFLOOR_TOPIC_PARTITIONS"),
    }[case]
    result, port = run_watchfloor_run(tmp_path, **env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("watchfloor: ") and expected in lines[0], result.stderr
    # Nothing was started: no bootstrap or desk line printed, no broker bound its port, no data dir.
    assert result.stdout == ""
    assert not port_in_use("127.0.0.1", port)
    assert not (tmp_path / "data").exists()
