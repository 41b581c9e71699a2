"""Every deployment file against its format's own schema, offline: the Kubernetes objects with
kubernetes-validate (strict: no unknown fields), KEDA's with the schema in schemas/keda.json, and
docker-compose.yml with the Compose Specification's."""

from __future__ import annotations

import json

import jsonschema
import kubernetes_validate
import pytest
from deploy_support import REPO, Doc

# The oldest Kubernetes the manifests promise to work on (kubectl's version on this machine).
KUBERNETES = "1.32.0"
SCHEMAS = REPO / "tests" / "deploy" / "schemas"
KEDA = json.loads((SCHEMAS / "keda.json").read_text(encoding="utf-8"))
COMPOSE = json.loads((SCHEMAS / "compose-spec.json").read_text(encoding="utf-8"))


def _problems(docs: list[Doc]) -> list[str]:
    problems = []
    for doc in docs:
        where = f"{doc['kind']} {doc['metadata']['name']}"
        if doc["apiVersion"].startswith("keda.sh/"):
            problems += [f"{where}: {e.message}" for e in _keda().iter_errors(doc)]
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{where}: no schema ({exc.message})")
    return problems


def _keda() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(KEDA)


@pytest.mark.parametrize("overlay", ["cluster", "small-site"])
def test_every_object_of_the_overlay_is_valid(built: dict[str, list[Doc]], overlay: str) -> None:
    assert _problems(built[overlay]) == []


def test_the_validators_reject_what_kubernetes_and_keda_would() -> None:
    # Guards the test above against validating nothing (a schema that accepts anything).
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "spec": {"containers": [{"name": "x", "imagePullPolicy": "Always", "imagee": "x"}]}
            },
        },
    }
    scaled = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "triggers": [{"type": "rabbitmq", "metadata": {}}],
        },
    }
    assert len(_problems([deployment, scaled])) == 2


def test_compose_file_follows_the_compose_specification(compose_file: Doc) -> None:
    validator = jsonschema.Draft201909Validator(COMPOSE)
    problems = [
        f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(compose_file)
    ]
    assert problems == []
    broken = {"services": {"x": {"image": "x", "depends_on": {"y": {"condition": "healthy"}}}}}
    assert list(validator.iter_errors(broken)), "the schema must reject an unknown condition"
