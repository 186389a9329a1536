"""The Dockerfile cannot be built here (no Docker engine), so its steps are checked as text.

"Identical to the README's install" means: the Dockerfile's RUN steps that install Python
packages (every `&&`-separated command mentioning `pip install` or the requirements script),
in order and with whitespace normalised, are exactly the commands of the README's
"Installing on a server" code block (comments and blank lines aside). Both take their
requirements from pyproject.toml through scripts/runtime_requirements.py, which is run here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
README_SECTION = "## Installing on a server"


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), " ".join(rest.split())))
    return pairs


def _is_install(command: str) -> bool:
    return "pip install" in command or "runtime_requirements.py" in command


def dockerfile_install_commands() -> list[str]:
    commands = []
    for keyword, rest in _instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "RUN":
            commands += [" ".join(c.split()) for c in rest.split("&&") if _is_install(c)]
    return commands


def readme_install_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block, f"README section {README_SECTION!r} has no ```sh block"
    lines = [line.split(" #", 1)[0].strip() for line in block.group(1).splitlines()]
    commands = [" ".join(c.split()) for line in lines if line for c in line.split("&&")]
    return [c for c in commands if not c.startswith("#")]


def test_dockerfile_installs_exactly_as_the_readme_says() -> None:
    readme = readme_install_commands()
    assert readme == dockerfile_install_commands()
    assert any("pip install -r" in c for c in readme) and "pip install --no-deps ." in readme


def test_dependency_layer_is_built_before_the_source_is_copied() -> None:
    steps = _instructions((ROOT / "Dockerfile").read_text())
    dependencies = next(
        i for i, (k, rest) in enumerate(steps) if k == "RUN" and "pip install -r" in rest
    )
    copies = [(i, rest) for i, (k, rest) in enumerate(steps) if k == "COPY"]
    before = [rest.split()[0] for i, rest in copies if i < dependencies]
    after = [rest.split()[0] for i, rest in copies if i > dependencies]
    assert before == ["pyproject.toml", "scripts/runtime_requirements.py"]
    assert {"bot", "storage"} <= set(after)


def test_image_is_slim_runs_as_non_root_checks_health_and_serves() -> None:
    steps = _instructions((ROOT / "Dockerfile").read_text())
    kinds = dict(steps)  # the last value of each instruction
    assert re.fullmatch(r"python:3\.1[1-9]-slim", kinds["FROM"])
    assert kinds["USER"] not in {"root", "0"}
    assert "/healthz" in kinds["HEALTHCHECK"]
    assert kinds["ENTRYPOINT"] == '["promobot", "serve"]'
    assert [k for k, _ in steps].index("USER") < [k for k, _ in steps].index("ENTRYPOINT")


def test_runtime_requirements_are_pyprojects_with_mlflow_skinny_not_mlflow() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/runtime_requirements.py", "--extra", "postgres"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = project["dependencies"] + project["optional-dependencies"]["postgres"]
    printed = result.stdout.split()
    assert printed == expected
    names = {re.split(r"[<>=\[ ]", r, maxsplit=1)[0].lower() for r in printed}
    assert "mlflow-skinny" in names and "mlflow" not in names
    assert {"prometheus-client", "pyyaml", "psycopg"} <= names


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "tests", "*.db", "*.env", ".env"} <= ignored


def test_compose_example_runs_promobot_with_mlflow_and_postgres() -> None:
    from bot.settings import Settings

    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text())
    services = compose["services"]
    assert {"promobot", "mlflow", "postgres"} <= set(services)
    promobot = services["promobot"]
    assert promobot["build"] == "."
    environment = promobot["environment"]
    assert environment["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert promobot["deploy"]["replicas"] >= 2
    assert "--port=5000" in services["mlflow"]["command"]
    Settings(**environment)  # the example's settings pass promobot's own validation


def test_compose_example_publishes_neither_mlflow_nor_postgres_to_the_host() -> None:
    """Anyone who can write to MLflow can bypass promobot, so only promobot may reach it."""
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.example.yml").read_text())
    services = compose["services"]
    for name in ("mlflow", "postgres"):
        assert "ports" not in services[name], f"{name} is published on the host"
        assert services[name].get("network_mode") != "host"
    assert services["promobot"]["ports"]  # promobot itself is what Slack must reach
