"""Pure Dask on a frontend reached over SSH, through a tunnel that carries
both the scheduler and the dashboard port."""

from __future__ import annotations

import pytest

import seamless_config
from seamless_config.dask.client import dashboard_url, dask_handle, get_dask_client
from seamless_config.launch import health, state

from .conftest import write_tree


@pytest.fixture
def ssh_home(fake_home, remote_cleanup):
    remote_cleanup.write_client_config(fake_home)
    return remote_cleanup


def test_pure_dask_through_an_ssh_tunnel(ssh_home, tmp_path):
    write_tree(tmp_path / "w", {"seamless.yaml": f"""
        - clusters:
            far:
              type: local
              workers: 1
              tunnel: true
              frontends:
                - hostname: 127.0.0.1
                  ssh_hostname: {ssh_home.alias}
                  daskserver: {{network_interface: 127.0.0.1, port_start: 45500,
                                port_end: 45549}}
              default_queue: q
              queues:
                q: {{cores: 1}}
        - cluster: far
        - execution: remote
        - persistent: false
        """})
    seamless_config.init(str(tmp_path / "w"))
    handle = dask_handle()
    client_record = state.read_client("pure-daskserver-far--q")
    assert client_record["tunneled-port"] == handle.port != client_record["port"]
    assert client_record["tunneled-dashboard_port"] != handle.dashboard_port
    assert health.healthy("127.0.0.1", handle.dashboard_port, "health")
    assert dashboard_url(handle) == f"http://127.0.0.1:{handle.dashboard_port}/status"
    with get_dask_client() as client:
        assert client.submit(pow, 2, 10).result(timeout=60) == 1024
