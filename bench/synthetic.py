"""A synthetic configuration for growth benchmarks: a chain of inheriting
directories and a large cluster catalogue with TEMPLATE-chained queues.

Only the subset both this package and seamless-config 0.3.2 read: the old
package requires conda, unknown-task-duration, target-duration and
maximum_jobs in every queue, and network_interface on a daskserver."""

from __future__ import annotations

import os


def _cluster(i: int, queues: int) -> str:
    lines = [f"c{i}:", "  type: slurm", "  tunnel: false", "  frontends:",
             f"    - hostname: login{i}.example",
             "      hashserver: {bufferdir: /scratch/buffers, port_start: 60100, port_end: 60199}",
             "      database: {database_dir: /scratch/db, port_start: 60200, port_end: 60299}",
             "      daskserver: {network_interface: 127.0.0.1, port_start: 60300, port_end: 60399}"]
    if queues:
        lines += ["  default_queue: q0", "  queues:",
                  "    q0: {conda: seamless-dask, walltime: '01:00:00', cores: 8, memory: 16000MB,",
                  "         unknown-task-duration: 1m, target-duration: 10m, maximum_jobs: 4}"]
        lines += [f"    q{j}: {{TEMPLATE: q{j - 1}, cores: {8 + j}}}" for j in range(1, queues)]
    return "\n".join(lines) + "\n"


def make_tree(tmp: str, depth: int, clusters: int, templated: int, queues: int):
    """Write the tree under ``tmp``; return (deepest workdir, home)."""
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".seamless"))
    with open(os.path.join(home, ".seamless", "clusters.yaml"), "w") as f:
        for i in range(clusters):
            f.write(_cluster(i, queues if i < templated else 0))
    path = os.path.join(tmp, "work")
    for level in range(depth):
        path = os.path.join(path, f"d{level}")
        os.makedirs(path)
        body = [f"- project: p{level}", f"- stage s{level}:", f"    - subproject: sub{level}"]
        if level:
            body.insert(0, "- inherit_from_parent")
        if level == depth - 1:
            body += ["- cluster: c0", "- queue: q3", "- persistent: true"]
        with open(os.path.join(path, "seamless.yaml"), "w") as f:
            f.write("\n".join(body) + "\n")
        with open(os.path.join(path, "seamless.profile.yaml"), "w") as f:
            f.write(f"- record: {'true' if level % 2 else 'false'}\n")
    return path, home
