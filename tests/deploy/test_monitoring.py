"""The monitoring that ships with the deployment: the alert rules pass promtool and its unit
tests, every alert has a summary and a runbook section, the component builds with the cluster
overlay, Prometheus alone may scrape, and compose's monitoring profile loads the same files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from deploy_support import OVERLAYS, REPO, Doc, kustomize

from dialog_platform.testing.monitoring import (
    ALERT_TESTS,
    ALERTS,
    DASHBOARD,
    MONITORING,
    alert_rules,
    dashboard_exprs,
)

DIALOG_SERVICES = {"kiosk-gateway", "media-store", "routing", "notifier", "dashboard"}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail(
            "promtool is missing: Debian's `prometheus` package (scripts/system-packages.sh)"
        )
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=120, check=False, cwd=MONITORING
    )


def test_the_rules_pass_promtool_check() -> None:
    checked = promtool("check", "rules", ALERTS.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in checked.stdout


def test_each_alert_fires_when_it_should_and_stays_quiet_otherwise() -> None:
    tested = promtool("test", "rules", ALERT_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))["tests"]
    fired = {t["alertname"] for c in cases for t in c.get("alert_rule_test", []) if t["exp_alerts"]}
    quiet = {
        t["alertname"] for c in cases for t in c.get("alert_rule_test", []) if not t["exp_alerts"]
    }
    names = {r["alert"] for r in alert_rules()}
    assert fired == names and quiet == names


def test_a_broken_rule_is_refused_by_promtool(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(\n")
    assert promtool("check", "rules", str(bad)).returncode != 0


def _anchor(heading: str) -> str:
    # GitHub's slugs: lower case, punctuation dropped, spaces to dashes.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_says_what_happened_and_points_at_a_runbook_section() -> None:
    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    anchors = {_anchor(h) for h in re.findall(r"^#{2,4} (.+)$", readme, flags=re.M)}
    for rule in alert_rules():
        notes = rule["annotations"]
        assert notes["summary"].strip(), rule["alert"]
        path, _, anchor = notes["runbook"].partition("#")
        assert path == "deploy/README.md", rule["alert"]
        assert anchor in anchors, f"{rule['alert']}: deploy/README.md has no section #{anchor}"
        assert rule["labels"]["severity"] in ("warning", "critical")


def test_the_prometheus_rule_holds_the_same_rules_as_alerts_yml() -> None:
    [rule] = yaml.safe_load_all((MONITORING / "prometheus-rule.yaml").read_text(encoding="utf-8"))
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"] == yaml.safe_load(ALERTS.read_text(encoding="utf-8")), (
        "prometheus-rule.yaml differs from alerts.yml: copy alerts.yml's groups into its spec"
    )


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> list[Doc]:
    site = tmp_path_factory.mktemp("site")
    (site / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                # kustomize takes relative paths only.
                "resources": [os.path.relpath(OVERLAYS / "cluster", site)],
                "components": [os.path.relpath(MONITORING, site)],
            }
        )
    )
    return kustomize(site)


def test_the_component_scrapes_every_service_on_its_http_port(monitored: list[Doc]) -> None:
    monitors = {d["metadata"]["name"]: d for d in monitored if d["kind"] == "PodMonitor"}
    assert set(monitors) >= DIALOG_SERVICES
    deployments = {d["metadata"]["name"]: d for d in monitored if d["kind"] == "Deployment"}
    for name in DIALOG_SERVICES:
        spec = monitors[name]["spec"]
        assert spec["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        [endpoint] = spec["podMetricsEndpoints"]
        assert endpoint["path"] == "/metrics"
        ports = deployments[name]["spec"]["template"]["spec"]["containers"][0]["ports"]
        assert endpoint["port"] in {p["name"] for p in ports}


def test_only_prometheus_in_the_cluster_may_scrape_and_the_ingress_never_routes_metrics(
    monitored: list[Doc],
) -> None:
    [policy] = [
        d
        for d in monitored
        if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "allow-prometheus"
    ]
    for rule in policy["spec"]["ingress"]:
        for peer in rule["from"]:
            assert "ipBlock" not in peer  # nothing from outside the cluster
            assert peer["namespaceSelector"] and peer["podSelector"]
    for ingress in (d for d in monitored if d["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert not "/metrics".startswith(path["path"]), path


def test_the_dashboard_is_a_config_map_for_grafanas_sidecar(monitored: list[Doc]) -> None:
    [config_map] = [
        d
        for d in monitored
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "dialog-grafana-dashboard"
    ]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["dialog-dashboard.json"])
    assert dashboard == json.loads(DASHBOARD.read_text(encoding="utf-8"))
    titles = " ".join(p["title"] for p in dashboard["panels"] if p["type"] == "row")
    for section in ("Requests", "Bus", "Outbox", "SMS", "Booths"):
        assert section in titles
    assert all(e.strip() for e in dashboard_exprs())


def test_compose_monitoring_is_a_profile_with_the_same_rules_and_dashboard(
    compose_file: Doc,
) -> None:
    services = compose_file["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
    optional = {"prometheus", "grafana", "backup", "backup-media"}  # backups: test_backups.py
    for name, service in services.items():
        if name not in optional:
            assert "profiles" not in service, name
    mounts = [v.split(":")[0] for s in ("prometheus", "grafana") for v in services[s]["volumes"]]
    assert "./deploy/k8s/components/monitoring/alerts.yml" in mounts
    assert "./deploy/k8s/components/monitoring/dialog-dashboard.json" in mounts
    for mount in mounts:
        if mount.startswith("./"):
            assert (REPO / mount).is_file(), mount
    config = yaml.safe_load((REPO / "deploy" / "compose" / "prometheus.yml").read_text())
    targets = {
        t for c in config["scrape_configs"] for s in c["static_configs"] for t in s["targets"]
    }
    assert targets == {f"{name}:8080" for name in DIALOG_SERVICES}
    for port in (p for s in ("prometheus", "grafana") for p in services[s]["ports"]):
        assert str(port).startswith("127.0.0.1:"), port
