"""execution 'spawn': seamless-transformer's local worker pool, sized by
the cluster's ``workers``."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from seamless_config.launch.activation import activate
from seamless_config.errors import ServiceError
from seamless_config.evaluation.pipeline import evaluate_workdir

from .conftest import write_tree


def spawn_tree(root, *, workers: str = "      workers: 3\n", extra: str = "") -> str:
    write_tree(root, {"seamless.yaml": (
        "- project: demo\n- clusters:\n    here:\n      type: local\n" + workers
        + "      frontends:\n        - jobserver: {}\n- cluster: here\n"
        "- persistent: false\n- execution: spawn\n" + extra)})
    return str(root)


@pytest.fixture
def fake_transformer(monkeypatch):
    """A stand-in seamless.transformer that records spawn() calls."""
    calls: list = []
    module = types.ModuleType("seamless.transformer")
    module.spawn = calls.append
    module.has_spawned = lambda: bool(calls)
    monkeypatch.setitem(sys.modules, "seamless.transformer", module)
    return calls


def test_spawns_the_cluster_workers_once(home, tmp_path, fake_transformer):
    ctx = evaluate_workdir(spawn_tree(tmp_path / "w"))
    assert activate(ctx).handles == []
    activate(ctx)  # set_stage activates again: the pool of this process stays
    assert fake_transformer == [3]


@pytest.mark.parametrize("workers,extra,expected", [
    ("", "- nparallel: 5\n", 5),
    ("", "", None),  # one per core
])
def test_worker_count_fallbacks(home, tmp_path, fake_transformer, workers, extra, expected):
    import os

    activate(evaluate_workdir(spawn_tree(tmp_path / "w", workers=workers, extra=extra)))
    assert fake_transformer == [expected or os.cpu_count()]


def test_without_seamless_transformer_says_what_to_install(home, tmp_path, monkeypatch):
    # seamless-core alone leaves seamless.transformer empty: the names are missing.
    monkeypatch.setitem(sys.modules, "seamless.transformer", types.ModuleType("empty"))
    ctx = evaluate_workdir(spawn_tree(tmp_path / "w"))
    with pytest.raises(ServiceError) as caught:
        activate(ctx)
    assert str(caught.value).startswith(
        "execution 'spawn' needs seamless-transformer, which is not installed: "
        "pip install seamless-transformer")


SCRIPT = """
import seamless_config
if __name__ == "__main__":
    seamless_config.init({root!r})
    from seamless.transformer import direct, has_spawned
    from seamless_transformer import worker

    @direct
    def add(a, b):
        return a + b

    print(has_spawned(), len(worker._worker_manager._handles), add(2, 3))
    import seamless
    seamless.close()
"""


def test_real_worker_pool_computes(home, tmp_path):
    pytest.importorskip("seamless_transformer")
    root = spawn_tree(tmp_path / "w", workers="      workers: 2\n")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(root=root))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "2", "5"]
