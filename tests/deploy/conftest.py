"""Fixtures of the deployment tests; what they compute is in deploy_support.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

# The test modules import deploy_support by name (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))

from deploy_support import (
    OVERLAYS,
    REPO,
    SERVICES,
    Doc,
    Needs,
    env_example,
    interpolate,
    kustomize,
)

from dialog_platform.component import Component
from dialog_platform.runner import discover


@pytest.fixture(scope="session")
def components() -> dict[str, Component]:
    return discover()


@pytest.fixture(scope="session")
def needs(components: dict[str, Component]) -> dict[str, Needs]:
    result = {}
    for name in SERVICES:
        component = components[name]
        calls = set(component.calls) | set(component.may_call)
        result[name] = Needs(
            name=name,
            calls=frozenset(calls - {name}),
            db=component.needs_db,
            media=component.needs_media,
        )
    return result


@pytest.fixture(scope="session")
def built() -> dict[str, list[Doc]]:
    return {overlay: kustomize(OVERLAYS / overlay) for overlay in ("cluster", "small-site")}


@pytest.fixture(scope="session")
def compose_text() -> str:
    return (REPO / "docker-compose.yml").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def compose_file(compose_text: str) -> Doc:
    """docker-compose.yml as `docker compose` reads it after `cp .env.example .env`."""
    loaded: Doc = yaml.safe_load(interpolate(compose_text, env_example()))
    return loaded


@pytest.fixture(scope="session")
def compose(compose_file: Doc) -> dict[str, Doc]:
    services: dict[str, Doc] = compose_file["services"]
    return services
