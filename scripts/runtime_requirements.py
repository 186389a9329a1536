"""Print promobot's runtime requirements from pyproject.toml, one per line, for `pip install -r`.

The container image and the README's server install both run this before copying the
source, so the dependency layer is built (and cached) from pyproject.toml alone.
Usage: python scripts/runtime_requirements.py [--extra NAME ...] [pyproject.toml]
"""

from __future__ import annotations

import argparse
import tomllib


def runtime_requirements(pyproject: dict[str, object], extras: list[str]) -> list[str]:
    """`[project] dependencies` plus the dependencies of each named optional extra."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    requirements = list(project["dependencies"])
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"pyproject.toml has no optional dependencies named '{extra}'")
        requirements.extend(optional[extra])
    return requirements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", action="append", default=[], help="also an optional extra")
    parser.add_argument("pyproject", nargs="?", default="pyproject.toml")
    args = parser.parse_args()
    with open(args.pyproject, "rb") as file:
        print("\n".join(runtime_requirements(tomllib.load(file), args.extra)))


if __name__ == "__main__":
    main()
