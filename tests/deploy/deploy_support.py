"""What the deployment tests read: the overlays as kubectl builds them, docker-compose.yml as
Compose reads it with a `.env` made from `.env.example`, and what each service needs, from its
code."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialog_platform.runner import url_setting

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = REPO / "deploy" / "k8s" / "overlays"
SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").is_file())
# Runs on the booth's computer, next to its printer: never in the cluster.
BOOTH_ONLY = {"printer-agent"}

Doc = dict[str, Any]


@dataclass(frozen=True)
class Needs:
    """What one service must be given: the services it calls and the backends it uses."""

    name: str
    calls: frozenset[str]
    db: bool
    media: bool

    def settings(self) -> set[str]:
        wanted = {"DIALOG_SECRET_KEY", "DIALOG_BUS_URL"}
        if self.db:
            wanted.add("DIALOG_MONGO_URL")
        if self.media:
            wanted.add("DIALOG_MEDIA_URL")
        return wanted | {url_setting(callee) for callee in self.calls}


__all__ = ["url_setting"]


def calls_in_code(service: str) -> set[str]:
    """The services a package's code asks the runner for (`ctx.service_url`/`optional_url`)."""
    pattern = re.compile(r"""(?:service|optional)_url\(\s*["']([a-z-]+)["']\s*\)""")
    found: set[str] = set()
    for path in (REPO / "services" / service / "src").rglob("*.py"):
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def kustomize(path: Path) -> list[Doc]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail(
            "kubectl is not installed: it builds the overlays (`kubectl kustomize`). "
            "Install it from the registries (Debian: apt-get install kubernetes-client)"
        )
    result = subprocess.run(
        [kubectl, "kustomize", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: ${X}, ${X:-default}, ${X-default}, ${X:?error}, $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if operator in (":-", ":?") and not value:
            value = None
        if value is not None:
            return value
        if operator in (":-", "-"):
            return argument or ""
        if operator in (":?", "?"):
            raise KeyError(f"compose would refuse to start: {argument} ({name})")
        return ""

    return _VARIABLE.sub(substitute, text)


def compose_environment(service: Doc) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {str(k): str(v) for k, v in environment.items()}
