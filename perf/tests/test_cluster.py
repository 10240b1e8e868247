"""The cluster's configuration files, checked without starting the cluster.

``make cluster-drill`` (CI) runs the cluster itself; these catch a broken config in seconds.
HAProxy checks its own file; Patroni's ``--validate-config`` refuses loopback addresses (a real
deployment's rule), so Patroni's settings are read back here instead.
"""

import json
import shutil
import subprocess

import pytest

from perf import cluster, cluster_config


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy is not installed")
def test_haproxy_accepts_the_generated_configuration(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_config, "STATE", tmp_path)
    config = tmp_path / "haproxy.cfg"
    config.write_text(cluster.haproxy_config(3))
    check = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_haproxy_routes_each_port_by_the_patroni_role_it_serves():
    text = cluster.haproxy_config(3)
    primary = text.split("listen primary", 1)[1].split("listen replicas", 1)[0]
    replicas = text.split("listen replicas", 1)[1].split("listen app", 1)[0]
    assert "GET /primary" in primary and "GET /replica" in replicas
    for node in cluster.NODES:
        server = f"{node.bouncer_port} check port {node.rest_port}"
        assert server in primary and server in replicas


def test_haproxy_retries_only_reads_and_writes_with_an_idempotency_key():
    app = cluster.haproxy_config(2).split("listen app", 1)[1]
    assert "retry-on conn-failure empty-response" in app
    assert "acl replayable method GET HEAD OPTIONS" in app
    assert "acl replayable req.hdr(Idempotency-Key) -m found" in app
    assert "http-request disable-l7-retry if !replayable" in app
    assert app.count("    server app") == 2


def test_patroni_acknowledges_a_commit_once_the_standby_applied_it_and_fails_over_on_a_crash():
    config = json.loads(cluster.patroni_config(cluster.NODES[1]))
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True
    assert dcs["postgresql"]["parameters"]["synchronous_commit"] == "remote_apply"
    assert dcs["primary_start_timeout"] == 0
    assert config["postgresql"]["listen"].endswith(str(cluster.NODES[1].pg_port))
    assert config["restapi"]["listen"].endswith(str(cluster.NODES[1].rest_port))
