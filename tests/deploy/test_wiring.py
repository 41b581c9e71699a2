"""Each service gets, in docker-compose.yml and in Kubernetes alike, every setting it reads (the
addresses of the services its code calls, the backends it uses) and may talk only to those."""

from __future__ import annotations

import re
from typing import Any

from deploy_support import (
    BOOTH_ONLY,
    REPO,
    SERVICES,
    Doc,
    Needs,
    calls_in_code,
    compose_environment,
    env_example,
    of_kind,
    url_setting,
)

BACKEND_PORTS = {"DIALOG_BUS_URL": ("rabbitmq", 5672), "DIALOG_MONGO_URL": ("mongo", 27017)}
MEDIA = ("minio", 9000)


def test_each_component_declares_every_service_its_code_asks_for(
    needs: dict[str, Needs],
) -> None:
    # The deployments below are checked against the declarations; the code must not drift.
    for name, need in needs.items():
        undeclared = calls_in_code(name) - need.calls - {name}
        assert not undeclared, f"{name} calls {sorted(undeclared)} without declaring it"


# --- docker-compose.yml -------------------------------------------------------------------------


def test_compose_runs_every_service_from_its_own_image(compose: dict[str, Doc]) -> None:
    missing = set(SERVICES) - set(compose)
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"
    for name in SERVICES:
        service = compose[name]
        assert service["build"]["args"]["SERVICE"] == name
        assert service["image"].split(":")[0] == name
        assert service["healthcheck"]["test"] == ["CMD", "dialog", "healthcheck"], name
        assert service["restart"] == "unless-stopped", name


def test_compose_starts_each_container_after_what_it_needs_is_healthy(
    compose: dict[str, Doc],
) -> None:
    for name, service in compose.items():
        for dependency, how in service.get("depends_on", {}).items():
            one_shot = compose[dependency].get("restart") == "no"
            wanted = "service_completed_successfully" if one_shot else "service_healthy"
            assert how["condition"] == wanted, (name, dependency)
            if not one_shot:
                assert "healthcheck" in compose[dependency], dependency


def test_compose_gives_each_service_what_it_reads(
    compose: dict[str, Doc], needs: dict[str, Needs]
) -> None:
    from_env_file = {k: v for k, v in env_example().items() if k.startswith("DIALOG_")}
    for name, need in needs.items():
        service = compose[name]
        given = compose_environment(service)
        if service.get("env_file"):
            given = {**from_env_file, **given}
        wanted = need.settings() if name not in BOOTH_ONLY else {"DIALOG_BUS_URL"}
        missing = wanted - set(given)
        assert not missing, f"{name} in docker-compose.yml lacks {sorted(missing)}"
        for callee in need.calls:
            if name in BOOTH_ONLY:
                continue
            assert given[url_setting(callee)] == f"http://{callee}:8080", (name, callee)
            assert callee in compose
        if "DIALOG_MEDIA_URL" in given:
            assert need.media, f"{name} gets the object store's keys but does not use them"


def test_compose_keeps_secrets_in_env_and_the_backends_inside(
    compose_text: str, compose: dict[str, Doc], compose_file: Doc
) -> None:
    # Every secret is required from .env: none has a default that would be used instead.
    for variable in ("DIALOG_SECRET_KEY", "RABBITMQ_PASSWORD", "MINIO_ROOT_PASSWORD"):
        uses = re.findall(r"\$\{" + variable + r"([^}]*)\}", compose_text)
        assert uses and all(u.startswith(":?") for u in uses), (variable, uses)
    published = {
        name: [str(p) for p in service.get("ports", [])] for name, service in compose.items()
    }
    open_to_all = {
        name for name, ports in published.items() if any(p.count(":") == 1 for p in ports)
    }
    assert open_to_all == {"kiosk-gateway", "dashboard"}
    # The booths' broker port, on loopback until the site opens it.
    assert published["rabbitmq"] == ["127.0.0.1:5672:5672"]
    assert compose_file["networks"]["backend"]["internal"] is True
    for backend in ("mongo", "minio"):
        assert compose[backend]["networks"] == ["backend"] and not compose[backend].get("ports")
    assert compose["printer-agent"]["environment"]["DIALOG_PRINTER_AGENT_PRINTER_URL"].startswith(
        "png://"
    )


def test_compose_keeps_state_in_named_volumes(compose: dict[str, Doc], compose_file: Doc) -> None:
    named = set(compose_file["volumes"])
    for backend, path in (
        ("rabbitmq", "/var/lib/rabbitmq"),
        ("mongo", "/data/db"),
        ("minio", "/data"),
    ):
        mounts = dict(v.split(":")[1::-1] for v in compose[backend]["volumes"])
        assert mounts[path] in named, backend


def test_env_example_holds_no_real_secret() -> None:
    for key, value in env_example().items():
        if any(word in key for word in ("SECRET", "PASSWORD", "APIKEY", "TOKEN")):
            assert value.startswith("<") and value.endswith(">"), f"{key} must be a placeholder"


# --- Kubernetes ---------------------------------------------------------------------------------


def _container(deployment: Doc) -> Doc:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _given(deployment: Doc, config_maps: dict[str, Doc]) -> dict[str, str]:
    container = _container(deployment)
    given: dict[str, str] = {}
    for source in container.get("envFrom", []):
        given.update(config_maps[source["configMapRef"]["name"]].get("data", {}))
    for entry in container.get("env", []):
        given[entry["name"]] = entry.get("value", "<from the Secret>")
    return given


def test_kubernetes_gives_each_service_what_it_reads(
    built: dict[str, list[Doc]], needs: dict[str, Needs]
) -> None:
    docs = built["cluster"]
    config_maps = of_kind(docs, "ConfigMap")
    services = of_kind(docs, "Service")
    for name, deployment in of_kind(docs, "Deployment").items():
        need = needs[name]
        given = _given(deployment, config_maps)
        missing = need.settings() - set(given)
        assert not missing, f"{name} in deploy/k8s lacks {sorted(missing)}"
        for callee in need.calls:
            assert given[url_setting(callee)] == f"http://{callee}:8080", (name, callee)
            ports = [p["port"] for p in services[callee]["spec"]["ports"]]
            assert 8080 in ports, callee
        if "DIALOG_MEDIA_URL" in given:
            assert need.media, f"{name} gets the object store's keys but does not use them"


def test_small_site_needs_only_its_secret_key(built: dict[str, list[Doc]]) -> None:
    (deployment,) = of_kind(built["small-site"], "Deployment").values()
    keys = {e["name"] for e in _container(deployment)["env"]}
    # Embedded backends: no URL may point it at servers the overlay does not have.
    assert keys == {"DIALOG_SECRET_KEY"}


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"])
        if expression["operator"] == "In" and present not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and present in expression["values"]:
            return False
    return True


def _ports(rule: Doc) -> set[Any]:
    return {p["port"] for p in rule.get("ports", [])}


def _policy_for(policies: dict[str, Doc], name: str) -> Doc:
    labels = {"app.kubernetes.io/name": name}
    own = [
        p
        for p in policies.values()
        if p["spec"]["podSelector"] and _selects(p["spec"]["podSelector"], labels)
    ]
    assert len(own) == 1, f"{name}: one NetworkPolicy of its own, found {len(own)}"
    return own[0]


def _egress_allows(policy: Doc, peer: str, port: int) -> bool:
    labels = {"app.kubernetes.io/name": peer}
    for rule in policy["spec"].get("egress", []):
        for to in rule.get("to", []):
            if (
                "podSelector" in to
                and "namespaceSelector" not in to
                and _selects(to["podSelector"], labels)
            ) and port in _ports(rule):
                return True
    return False


def _ingress_allows(policy: Doc, peer: str) -> bool:
    labels = {"app.kubernetes.io/name": peer}
    for rule in policy["spec"].get("ingress", []):
        for source in rule.get("from", []):
            only_pods = "podSelector" in source and "namespaceSelector" not in source
            if only_pods and _selects(source["podSelector"], labels):
                return True
    return False


def test_network_policies_allow_the_designed_calls_and_no_others(
    built: dict[str, list[Doc]], needs: dict[str, Needs]
) -> None:
    docs = built["cluster"]
    policies = of_kind(docs, "NetworkPolicy")
    deployed = set(of_kind(docs, "Deployment"))
    for name in deployed:
        need = needs[name]
        policy = _policy_for(policies, name)
        for other in deployed - {name}:
            calls = other in need.calls
            assert _egress_allows(policy, other, 8080) == calls, f"{name} → {other}"
            called_by = name in needs[other].calls
            assert _ingress_allows(policy, other) == called_by, f"{other} → {name}"
        for setting, (backend, port) in BACKEND_PORTS.items():
            uses = setting in need.settings()
            assert _egress_allows(policy, backend, port) == uses, f"{name} → {backend}"
            assert _ingress_allows(_policy_for(policies, backend), name) == uses, (
                f"{name} → {backend}"
            )
        assert _egress_allows(policy, MEDIA[0], MEDIA[1]) == need.media, f"{name} → minio"
        assert _ingress_allows(_policy_for(policies, MEDIA[0]), name) == need.media


def test_only_the_ingress_controller_reaches_the_public_services(
    built: dict[str, list[Doc]],
) -> None:
    docs = built["cluster"]
    policies = of_kind(docs, "NetworkPolicy")
    public = {
        path["backend"]["service"]["name"]
        for ingress in of_kind(docs, "Ingress").values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    for name in of_kind(docs, "Deployment"):
        rules = _policy_for(policies, name)["spec"].get("ingress", [])
        from_controller = any(
            s.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "ingress-nginx"
            for rule in rules
            for s in rule.get("from", [])
        )
        assert from_controller == (name in public), name


def test_the_booth_env_file_names_what_printer_agent_reads() -> None:
    text = (REPO / "deploy" / "booth" / "printer-agent.env.example").read_text(encoding="utf-8")
    keys = {
        line.partition("=")[0] for line in text.splitlines() if line and not line.startswith("#")
    }
    assert {
        "DIALOG_BUS_URL",
        "DIALOG_SECRET_KEY",
        "DIALOG_ENVIRONMENT",
        "DIALOG_PRINTER_AGENT_KIOSK_ID",
        "DIALOG_PRINTER_AGENT_PRINTER_URL",
    } <= keys
