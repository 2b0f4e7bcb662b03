"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the Compose
Specification's JSON Schema, files that exist, a scalable worker, KRaft Kafka, configuration by
environment only."""

from __future__ import annotations

import copy
import json
import re
import tomllib

import jsonschema
import pytest

from core.settings import Settings
from tests.deploy.conftest import ROOT
from watchfloor.cli import build_parser

SCHEMA = json.loads((ROOT / "tests" / "deploy" / "data" / "compose-spec.json").read_text())
WATCHFLOOR_SERVICES = ("topics", "worker", "connect", "web")


def schema_errors(document: dict) -> list[str]:
    # The vendored schema's $schema URI names no registered draft; the spec declares draft-07.
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_specification_schema(compose):
    assert schema_errors(compose) == []


def test_the_schema_check_rejects_a_misspelled_service_key(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["worker"]["enviroment"] = {"X": "1"}
    assert any("enviroment" in error for error in schema_errors(broken))


def test_every_build_context_holds_its_dockerfile(compose):
    builds = [s["build"] for s in compose["services"].values() if "build" in s]
    assert len(builds) == len(WATCHFLOOR_SERVICES)
    for build in builds:
        assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).is_file()


def test_every_bind_mounted_path_exists(compose):
    sources = [volume.split(":")[0] for service in compose["services"].values()
               for volume in service.get("volumes", [])]
    binds = [source for source in sources if source.startswith(".")]
    assert binds, "prometheus and grafana mount deploy/"
    for source in binds:
        assert (ROOT / source).exists(), source
    named = {source for source in sources if not source.startswith(".")}
    assert named <= set(compose["volumes"])


def test_worker_can_be_scaled_without_name_or_port_clashes(compose):
    for name in ("worker", "connect"):
        service = compose["services"][name]
        assert "container_name" not in service and "ports" not in service and "hostname" not in service


def test_kafka_is_apache_kafka_in_kraft_mode_without_zookeeper(compose):
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "zookeeper" not in json.dumps(compose).lower()
    assert "healthcheck" in kafka


def test_pipeline_services_wait_for_kafka_and_topics(compose):
    services = compose["services"]
    assert services["topics"]["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    for name in ("worker", "connect", "web"):
        assert services[name]["depends_on"] == {"topics": {"condition": "service_completed_successfully"}}
    assert services["topics"]["restart"] == "no"


@pytest.mark.parametrize("name", WATCHFLOOR_SERVICES)
def test_service_command_is_a_watchfloor_subcommand_without_options(compose, name):
    command = compose["services"][name]["command"]
    assert not any(arg.startswith("-") for arg in command), "configuration goes through the environment"
    args = build_parser().parse_args(command)
    assert callable(args.func)


def test_every_watchfloor_variable_names_a_setting(compose):
    fields = set(Settings.model_fields)
    seen = set()
    for service in compose["services"].values():
        for key in service.get("environment", {}):
            if key.startswith("WATCHFLOOR_"):
                seen.add(key)
                assert key.removeprefix("WATCHFLOOR_").lower() in fields, key
    assert "WATCHFLOOR_KAFKA_BOOTSTRAP" in seen
    assert compose["services"]["worker"]["environment"]["WATCHFLOOR_KAFKA_BOOTSTRAP"].endswith("kafka:9092}")


def test_compose_file_holds_no_secret_values(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    for key in re.findall(r"^\s*([A-Z_]*(?:PASSWORD|TOKEN|SECRET|API_HASH)[A-Z_]*):", text, re.M):
        pytest.fail(f"{key} is set in docker-compose.yml; put it in an override file")


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_dockerfile_installs_the_package_on_python_311_slim_and_runs_as_non_root():
    steps = dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    assert any(op == "RUN" and "pip install ." in arg for op, arg in steps)
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    entry = [arg for op, arg in steps if op == "ENTRYPOINT"]
    assert entry == ['["watchfloor"]']


def test_the_image_compiles_the_c_loops_with_a_compiler_it_removes_afterwards():
    steps = dockerfile_instructions()
    copied = {source for op, arg in steps if op == "COPY" for source in arg.split()[:-1]}
    assert "setup.py" in copied, "without setup.py pip builds no extension and the image runs the Python twins"
    build = next(arg for op, arg in steps if op == "RUN" and "pip install ." in arg)
    install, pip, purge = build.index("apt-get install"), build.index("pip install ."), build.index("apt-get purge")
    assert install < pip < purge and "gcc" in build[install:pip] and "gcc" in build[purge:]
    assert "rm -rf /var/lib/apt/lists/*" in build


def test_every_file_the_dockerfile_copies_exists():
    copies = [arg.split()[:-1] for op, arg in dockerfile_instructions() if op == "COPY"]
    sources = [source for sources in copies for source in sources if not source.startswith("--")]
    assert "pyproject.toml" in sources
    for source in sources:
        # A pattern may match nothing (Docker needs one match per COPY); a plain path must exist.
        if not any(char in source for char in "*?["):
            assert (ROOT / source).exists(), source
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for package in (pattern.rstrip("*") for pattern in find["include"]):
        assert package in sources, f"pip install . packages {package}: the Dockerfile must copy it"


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".data", ".env", "*.session", "watchfloor.yaml"} <= ignored
    copies = {arg.split()[0] for op, arg in dockerfile_instructions() if op == "COPY"}
    assert not copies & ignored, "the Dockerfile copies something .dockerignore leaves out"
