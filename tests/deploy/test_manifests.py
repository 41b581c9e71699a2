"""The deployment files: both kustomize overlays build, every service is deployed the same safe
way, and docker-compose.yml runs every service."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # PyYAML: in the venv through uvicorn[standard]

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = REPO / "deploy" / "k8s" / "overlays"
SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").is_file())
# Runs on the booth's computer, next to its printer: never in the cluster.
BOOTH_ONLY = {"printer-agent"}
PUBLISHED = {"kiosk-gateway", "dashboard"}

Doc = dict[str, Any]


def kustomize(overlay: str) -> list[Doc]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not installed: it builds the overlays (`kubectl kustomize`)")
    result = subprocess.run(
        [kubectl, "kustomize", str(OVERLAYS / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def built() -> dict[str, list[Doc]]:
    return {overlay: kustomize(overlay) for overlay in ("cluster", "small-site")}


def of_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_services_are_found() -> None:
    assert set(SERVICES) >= {"kiosk-gateway", "printer-agent"}, SERVICES


def test_cluster_deploys_every_service_but_the_booths(built: dict[str, list[Doc]]) -> None:
    docs = built["cluster"]
    expected = set(SERVICES) - BOOTH_ONLY
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == expected
    assert set(of_kind(docs, "Service")) == expected
    assert set(of_kind(docs, "ServiceAccount")) == expected
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == name
        (container,) = pod["containers"]
        # One name everywhere: the image is the service's, and it runs that target.
        assert container["image"].rsplit("/", 1)[-1].split(":")[0] == name
        args = container["args"]
        assert args[0] == "run" and args[args.index("--target") + 1] == name, args


@pytest.mark.parametrize("overlay", ["cluster", "small-site"])
def test_every_deployment_is_probed_limited_and_locked_down(
    built: dict[str, list[Doc]], overlay: str
) -> None:
    deployments = of_kind(built[overlay], "Deployment")
    assert deployments
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            where = f"{overlay}: {name}/{container['name']}"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where
            assert container["livenessProbe"]["httpGet"]["path"] == "/livez", where
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), where
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert "ALL" in security["capabilities"]["drop"], where
            pod_security = pod.get("securityContext", {})
            assert security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True, where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "emptyDir" in volumes[mounts["/tmp"]], f"{where}: /tmp must be an emptyDir"


@pytest.mark.parametrize("overlay", ["cluster", "small-site"])
def test_settings_come_from_the_config_map_and_an_uncommitted_secret(
    built: dict[str, list[Doc]], overlay: str
) -> None:
    docs = built[overlay]
    assert not of_kind(docs, "Secret"), "no Secret may be committed"
    config_maps = [n for n in of_kind(docs, "ConfigMap") if n.startswith("dialog-config-")]
    assert len(config_maps) == 1, config_maps
    for name, deployment in of_kind(docs, "Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            sources = [s["configMapRef"]["name"] for s in container.get("envFrom", [])]
            assert sources == config_maps, name
            secrets = {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in container.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})
            }
            assert secrets == {"dialog-secrets"}, name
            keys = {e["name"] for e in container["env"]}
            assert "DIALOG_SECRET_KEY" in keys, name


def test_small_site_is_one_process_with_its_data_on_a_volume(built: dict[str, list[Doc]]) -> None:
    docs = built["small-site"]
    deployments = of_kind(docs, "Deployment")
    assert list(deployments) == ["dialog"]
    deployment = deployments["dialog"]
    # Only one process may hold the embedded database files.
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    assert args[0] == "run" and args[args.index("--target") + 1] == "all", args

    (config,) = of_kind(docs, "ConfigMap").values()
    data_dir = config["data"]["DIALOG_DATA_DIR"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes[mounts[data_dir]]["persistentVolumeClaim"]["claimName"]
    assert claim in of_kind(docs, "PersistentVolumeClaim")


@pytest.fixture(scope="module")
def compose() -> dict[str, Doc]:
    services: dict[str, Doc] = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    return services


def test_compose_runs_every_service_from_its_own_image(compose: dict[str, Doc]) -> None:
    missing = set(SERVICES) - set(compose)
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"
    for name in SERVICES:
        service = compose[name]
        assert service["build"]["args"]["SERVICE"] == name
        assert service["image"].split(":")[0] == name
        assert service["healthcheck"]["test"] == ["CMD", "dialog", "healthcheck"], name
        conditions = {d["condition"] for d in service["depends_on"].values()}
        assert conditions <= {"service_healthy", "service_completed_successfully"}, name


def test_compose_publishes_only_the_booth_and_the_dashboard(compose: dict[str, Doc]) -> None:
    published = {name for name, service in compose.items() if service.get("ports")}
    assert published == PUBLISHED
