"""The Kubernetes manifests: both overlays build, and every service is deployed the same safe way,
scaled on its own signal, with its settings from ConfigMaps and a Secret that is never committed."""

from __future__ import annotations

from typing import Any

from deploy_support import BOOTH_ONLY, SERVICES, Doc, of_kind

from dialog_contracts.topology import BINDINGS, queue_name

HTTP_SCALED = {"kiosk-gateway", "media-store", "dashboard"}
QUEUE_SCALED = {"routing", "notifier"}
BACKENDS = {"rabbitmq", "mongo", "minio"}


def test_services_are_found() -> None:
    assert set(SERVICES) >= {"kiosk-gateway", "printer-agent"}, SERVICES


def test_cluster_deploys_every_service_but_the_booths_under_one_name(
    built: dict[str, list[Doc]],
) -> None:
    docs = built["cluster"]
    expected = set(SERVICES) - BOOTH_ONLY
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == expected
    for kind in ("Service", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
        missing = expected - set(of_kind(docs, kind))
        assert not missing, f"no {kind} for {sorted(missing)}"
    config_maps = {n.rsplit("-", 1)[0] for n in of_kind(docs, "ConfigMap")}
    assert {f"{name}-config" for name in expected} <= config_maps
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == name
        (container,) = pod["containers"]
        # One name everywhere: the image is the service's, and it runs that target.
        assert container["image"].rsplit("/", 1)[-1].split(":")[0] == name
        args = container["args"]
        assert args[0] == "run" and args[args.index("--target") + 1] == name, args


def _workloads(docs: list[Doc]) -> dict[str, Doc]:
    # A CronJob's pods are checked as a Job's: its job template's pod template.
    crons = {
        name: {"kind": "Job", "spec": cron["spec"]["jobTemplate"]["spec"]}
        for name, cron in of_kind(docs, "CronJob").items()
    }
    return {
        **of_kind(docs, "Deployment"),
        **of_kind(docs, "StatefulSet"),
        **of_kind(docs, "Job"),
        **crons,
    }


def test_every_pod_is_probed_limited_and_locked_down(built: dict[str, list[Doc]]) -> None:
    for overlay, docs in built.items():
        workloads = _workloads(docs)
        assert workloads
        for name, workload in workloads.items():
            pod = workload["spec"]["template"]["spec"]
            pod_security = pod.get("securityContext", {})
            assert pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            assert pod.get("automountServiceAccountToken") is False, name
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            for container in pod["containers"]:
                where = f"{overlay}: {workload['kind']} {name}/{container['name']}"
                for kind in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(container["resources"][kind]), where
                security = container["securityContext"]
                assert security["allowPrivilegeEscalation"] is False, where
                assert security["capabilities"]["drop"] == ["ALL"], where
                non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
                assert non_root is True, where
                if workload["kind"] == "Job":
                    continue
                assert "readinessProbe" in container and "livenessProbe" in container, where
                if name == "rabbitmq":
                    continue  # its entrypoint writes /etc/rabbitmq (the manifest says why)
                assert security["readOnlyRootFilesystem"] is True, where
                if workload["kind"] == "Deployment":
                    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where
                    assert container["livenessProbe"]["httpGet"]["path"] == "/livez", where
                    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                    assert "emptyDir" in volumes[mounts["/tmp"]], f"{where}: /tmp not an emptyDir"


def test_settings_come_from_config_maps_and_an_uncommitted_secret(
    built: dict[str, list[Doc]],
) -> None:
    for overlay, docs in built.items():
        assert not of_kind(docs, "Secret"), f"{overlay}: no Secret may be committed"
        config_maps = set(of_kind(docs, "ConfigMap"))
        for name, deployment in of_kind(docs, "Deployment").items():
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                sources = [s["configMapRef"]["name"] for s in container.get("envFrom", [])]
                assert sources and set(sources) <= config_maps, (overlay, name, sources)
                assert any(s.startswith("dialog-config-") for s in sources), (overlay, name)
                secrets = {
                    e["valueFrom"]["secretKeyRef"]["name"]
                    for e in container.get("env", [])
                    if "secretKeyRef" in e.get("valueFrom", {})
                }
                assert secrets == {"dialog-secrets"}, (overlay, name)
                for entry in container.get("env", []):
                    assert "value" not in entry or "SECRET" not in entry["name"], entry


def test_small_site_is_one_process_with_its_data_on_a_volume(built: dict[str, list[Doc]]) -> None:
    docs = built["small-site"]
    deployments = of_kind(docs, "Deployment")
    assert list(deployments) == ["dialog"]
    deployment = deployments["dialog"]
    # Only one process may hold the embedded database files.
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert not of_kind(docs, "HorizontalPodAutoscaler")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    assert args[0] == "run" and args[args.index("--target") + 1] == "all", args
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]

    (config,) = of_kind(docs, "ConfigMap").values()
    data_dir = config["data"]["DIALOG_DATA_DIR"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    claim = volumes[mounts[data_dir]]["persistentVolumeClaim"]["claimName"]
    assert claim in of_kind(docs, "PersistentVolumeClaim")


def test_cluster_runs_the_backends_as_stateful_sets_on_volumes(
    built: dict[str, list[Doc]],
) -> None:
    docs = built["cluster"]
    sets = of_kind(docs, "StatefulSet")
    assert set(sets) == BACKENDS
    services = of_kind(docs, "Service")
    for name, stateful in sets.items():
        assert stateful["spec"]["serviceName"] in services, name
        assert stateful["spec"]["volumeClaimTemplates"], name
        env = stateful["spec"]["template"]["spec"]["containers"][0].get("env", [])
        for entry in env:
            if any(word in entry["name"] for word in ("PASS", "USER")):
                assert entry["valueFrom"]["secretKeyRef"]["name"] == "dialog-backends", entry
    mongo = sets["mongo"]["spec"]["template"]["spec"]["containers"][0]
    assert "--replSet" in mongo["command"], "the outbox needs transactions: a replica set"


def _target(doc: Doc) -> str:
    name: str = doc["spec"]["scaleTargetRef"]["name"]
    return name


def test_http_services_scale_on_cpu_and_consumers_on_their_queues(
    built: dict[str, list[Doc]],
) -> None:
    docs = built["cluster"]
    hpas = {_target(h): h for h in of_kind(docs, "HorizontalPodAutoscaler").values()}
    assert set(hpas) == HTTP_SCALED
    for name, hpa in hpas.items():
        assert hpa["spec"]["minReplicas"] >= 2, name
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu", name

    scaled = {_target(s): s for s in of_kind(docs, "ScaledObject").values()}
    assert set(scaled) == QUEUE_SCALED
    authentications = of_kind(docs, "TriggerAuthentication")
    for name, scaled_object in scaled.items():
        # Deadline sweeps and held SMS need one pod running.
        assert scaled_object["spec"]["minReplicaCount"] >= 1, name
        triggers = scaled_object["spec"]["triggers"]
        queues = {t["metadata"]["queueName"] for t in triggers}
        consumed = {
            queue_name("dialog", b.consumer, b.event) for b in BINDINGS if b.consumer == name
        }
        assert queues == consumed, f"{name}: KEDA watches {sorted(queues)}, it consumes {consumed}"
        for trigger in triggers:
            assert trigger["type"] == "rabbitmq"
            assert trigger["authenticationRef"]["name"] in authentications

    # Whoever scales a Deployment owns its replica count: a fixed one would fight the scaler.
    for name, deployment in of_kind(docs, "Deployment").items():
        if name in HTTP_SCALED | QUEUE_SCALED:
            assert "replicas" not in deployment["spec"], name


def _paths(ingresses: list[Doc]) -> dict[str, str]:
    paths: dict[str, str] = {}
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                paths[path["path"]] = path["backend"]["service"]["name"]
    return paths


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(text[:-1]) * units[text[-1].lower()] if text[-1].isalpha() else int(text)


def test_the_ingress_body_limit_is_large_for_the_uploads_only(
    built: dict[str, list[Doc]],
) -> None:
    for overlay, docs in built.items():
        for name, ingress in of_kind(docs, "Ingress").items():
            annotations = ingress["metadata"]["annotations"]
            size = _size(annotations["nginx.ingress.kubernetes.io/proxy-body-size"])
            paths = _paths([ingress])
            uploads = all(p.endswith(("/video", "/photo")) for p in paths)
            if uploads:
                # Streamed to the service, which caps them itself.
                assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
            else:
                # JSON and forms: the dashboard's answer form is the largest (about 256 KB).
                assert size <= 1024**2, (overlay, name, size)
        # Behind the ingress, the client is whom its X-Forwarded-For names.
        configs = of_kind(docs, "ConfigMap").values()
        assert any("DIALOG_TRUSTED_PROXIES" in c.get("data", {}) for c in configs), overlay


def test_ingress_publishes_the_booth_tracking_and_dashboard_addresses_only(
    built: dict[str, list[Doc]],
) -> None:
    for overlay, docs in built.items():
        ingresses = list(of_kind(docs, "Ingress").values())
        paths = _paths(ingresses)
        for public in ("/kiosk", "/track", "/dashboard", "/api/v1/appeals", "/api/v1/answers"):
            assert public in paths, (overlay, public)
        assert paths["/dashboard"] in {"dashboard", "dialog"}
        # Kiosk administration, the directory, cases and media writes stay inside.
        for inner in ("/", "/api/v1/kiosks", "/api/v1/directory", "/api/v1/cases", "/api/v1/media"):
            assert inner not in paths, (overlay, inner)
        services = of_kind(docs, "Service")
        assert set(paths.values()) <= set(services), overlay
        assert all(i["spec"]["tls"][0]["secretName"] for i in ingresses), overlay


def _spec(doc: Doc) -> Any:
    return doc["spec"]


def test_every_namespace_denies_by_default(built: dict[str, list[Doc]]) -> None:
    for overlay, docs in built.items():
        deny = of_kind(docs, "NetworkPolicy")["default-deny"]
        assert _spec(deny)["podSelector"] == {}, overlay
        assert set(_spec(deny)["policyTypes"]) == {"Ingress", "Egress"}, overlay
        assert "ingress" not in _spec(deny) and "egress" not in _spec(deny), overlay
