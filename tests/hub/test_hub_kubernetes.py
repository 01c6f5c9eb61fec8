"""Kubernetes through KubeSpawner and the Zero to JupyterHub chart: no Kubernetes runs here, so these tests check
what can be checked without one. The values file parses; KubeSpawner, configured from it the way the chart's hub
configuration maps `singleuser.*` onto KubeSpawner, loads and renders the pod a course box needs (privileged,
root, the image's `lab` mode, the limits, the notebooks' volume at /course, the engine's scratch volume)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "hub" / "z2jh-values.yaml"

pytest.importorskip("kubespawner", reason="jupyterhub-kubespawner is in the hub extra ('./lab test' installs it)")


def values() -> dict:
    """The chart values, as helm reads them (YAML)."""
    return yaml.safe_load(VALUES.read_text())


def spawner_config(found: dict) -> Config:
    """KubeSpawner settings from the chart's `singleuser` values (the mapping the chart's hub config applies)."""
    single = found["singleuser"]
    config = Config()
    kube = config.KubeSpawner
    kube.image = f"{single['image']['name']}:{single['image']['tag']}"
    kube.image_pull_policy = single["image"]["pullPolicy"]
    kube.cmd = single["cmd"]
    kube.default_url = single["defaultUrl"]
    kube.uid = single["uid"]
    kube.fs_gid = single["fsGid"]
    kube.allow_privilege_escalation = single["allowPrivilegeEscalation"]
    kube.extra_container_config = single["extraContainerConfig"]
    kube.cpu_limit, kube.cpu_guarantee = float(single["cpu"]["limit"]), float(single["cpu"]["guarantee"])
    kube.mem_limit, kube.mem_guarantee = single["memory"]["limit"], single["memory"]["guarantee"]
    kube.start_timeout = single["startTimeout"]
    storage = single["storage"]
    assert storage["type"] == "dynamic"
    kube.storage_pvc_ensure = True
    kube.storage_capacity = storage["capacity"]
    kube.pvc_name_template = "claim-{username}{servername}"
    kube.volumes = [{"name": "volume-{username}{servername}",
                     "persistentVolumeClaim": {"claimName": "{pvc_name}"}}] + storage["extraVolumes"]
    kube.volume_mounts = [{"mountPath": storage["homeMountPath"], "name": "volume-{username}{servername}"}] \
        + storage["extraVolumeMounts"]
    return config


def test_the_values_file_parses_and_holds_no_password():
    found = values()
    assert found["hub"]["config"]["JupyterHub"]["authenticator_class"] == "shared-password"
    assert "SharedPasswordAuthenticator" not in found["hub"]["config"], "passwords are given at install time"
    assert found["cull"]["enabled"] and found["cull"]["timeout"] == 3600
    assert found["prePuller"]["hook"]["enabled"], "the image is on every node before the room arrives"
    assert found["singleuser"]["networkPolicy"]["enabled"]


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none, namespace: course}}]
current-context: none
"""


def test_kubespawner_loads_the_values_and_renders_a_box_pod(tmp_path, monkeypatch):
    """KubeSpawner reads a kube config when it starts; this one names no reachable cluster (nothing is contacted:
    rendering a pod is local)."""
    from kubespawner import KubeSpawner

    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    monkeypatch.setattr("kubernetes_asyncio.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION",
                        str(tmp_path / "kubeconfig"))

    from kubernetes_asyncio.client import ApiClient

    async def render():
        spawner = KubeSpawner(config=spawner_config(values()), _mock=True)
        pod = await spawner.get_pod_manifest()
        return spawner, ApiClient().sanitize_for_serialization(pod)  # the pod as kubectl would see it

    spawner, manifest = asyncio.run(render())
    container = manifest["spec"]["containers"][0]
    assert container["image"] == "containerlab/course-hub:latest"
    assert container["args"][0] == "lab", "the box's entrypoint in its JupyterLab mode"
    assert container["securityContext"]["privileged"] is True
    assert container["securityContext"]["runAsUser"] == 0
    assert container["resources"]["limits"] == {"cpu": 1.0, "memory": 2 * 1024**3}
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert "/course" in mounts and mounts["/var/lib/containerlab-box"] == "box-engine"
    volumes = {volume["name"]: volume for volume in manifest["spec"]["volumes"]}
    assert "emptyDir" in volumes["box-engine"]
    assert volumes[mounts["/course"]]["persistentVolumeClaim"]["claimName"] == spawner.pvc_name
