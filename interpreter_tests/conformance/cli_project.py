"""A project for seamless-transformer's CLIs: a local cluster on 127.0.0.1
(hashserver, database, jobserver) whose data stays under the project, a
private HOME, and the CLIs of one environment first on PATH.

Two dialects of seamless.yaml: ours, and the one a 0.3.2 user wrote, which
0.3.2 needs to launch on this machine (``local_cluster:`` inside the inline
``clusters:``) and whose jobserver names a ``conda`` (null: no activation).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from interpreter_tests.fixtures_sshd import kill_started

from .runner import SCRUBBED, Env

CLI_TIMEOUT = 60  # a run takes seconds; the first launches servers
# Writes the pids from the shell up to init, then counts the input's bytes:
# the log grows only when the command really runs, and shows who ran it.
COUNT_SH = """\
p=$$; chain=""
while [ "$p" -gt 1 ]; do chain="$chain $p"; p=$(sed 's/.*) //' /proc/$p/stat | cut -d' ' -f2); done
echo "$chain" >> {log}
wc -c < "$1"
"""


PORTS_PER_SERVICE = 10
PORTS_PER_PROJECT = 3 * PORTS_PER_SERVICE


def seamless_yaml(root: Path, ports: int, project: str, dialect: str, tail: str = "") -> str:
    """Hashserver, database and jobserver get 10 ports each from ``ports``."""
    w = PORTS_PER_SERVICE
    local = "    local_cluster: here\n" if dialect == "0.3.2" else ""
    conda = "            conda: null\n" if dialect == "0.3.2" else ""
    return f"""\
- project: {project}
- clusters:
{local}    here:
      type: local
      workers: 1
      default_queue: q
      queues:
        q: {{walltime: '00:10:00', memory: 1GB, cores: 1}}
      frontends:
        - hashserver:
            bufferdir: {root}/data/buffers
            network_interface: 127.0.0.1
            port_start: {ports}
            port_end: {ports + w - 1}
          database:
            database_dir: {root}/data/db
            network_interface: 127.0.0.1
            port_start: {ports + w}
            port_end: {ports + 2 * w - 1}
          jobserver:
{conda}            network_interface: 127.0.0.1
            port_start: {ports + 2 * w}
            port_end: {ports + 3 * w - 1}
- cluster: here
- execution: remote
- remote: jobserver
{tail}"""


@dataclass(frozen=True)
class Project:
    root: Path
    home: Path
    env: Env
    project: str

    @property
    def launcher_dir(self) -> Path:
        return self.home / ".remote-http-launcher"

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text)
        return path

    def run(self, *argv: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
        env.update(HOME=str(self.home),
                   PATH=f"{self.env.bin}{os.pathsep}{os.environ.get('PATH', '')}")
        if self.env.name == "ours":
            # Not for 0.3.2: it launches through remote-http-launcher 0.4.5,
            # which with REMOTE_HTTP_LAUNCHER_DIR set writes status files in
            # that folder itself while its launch helper demands them under
            # '<folder>/server', and refuses to launch.  Unset, both use
            # HOME/.remote-http-launcher, the same folder as here.
            env["REMOTE_HTTP_LAUNCHER_DIR"] = str(self.launcher_dir)
        return subprocess.run(list(argv), cwd=str(self.root), env=env, capture_output=True,
                              text=True, timeout=timeout)

    def ok(self, *argv: str, hang_retries: int = 0,
           timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
        """Run, expecting exit 0.  Each time the command hangs (up to
        ``hang_retries`` times) this project's servers are stopped and it
        runs again, with a warning."""
        for attempt in range(hang_retries + 1):
            try:
                out = self.run(*argv, timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                if attempt == hang_retries:
                    raise
                warnings.warn(f"{' '.join(argv)} hung ({self.env.name}); servers stopped, "
                              "running it again", stacklevel=2)
                kill_started(str(self.launcher_dir))
        assert out.returncode == 0, f"{' '.join(argv)} exited with {out.returncode}:\n" \
            f"{out.stdout}\n{out.stderr}"
        return out

    def server(self, service: str) -> dict | None:
        path = self.launcher_dir / "server" / f"{service}-here-rw-{self.project}.json"
        if not path.exists():
            return None
        return json.loads(path.read_text())

    def buffer(self, checksum: str) -> bytes:
        """The hashserver's file for ``checksum`` (stored under its first two
        hex digits), its content checked."""
        path = self.root / "data" / "buffers" / self.project / checksum[:2] / checksum
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == checksum
        return data

    def rows(self, table: str) -> list[tuple]:
        db = self.root / "data" / "db" / self.project / "seamless.db"
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return list(conn.execute(f"SELECT * FROM {table}"))  # noqa: S608 (our names)


def make_project(root: Path, home: Path, env: Env, ports: int, project: str, dialect: str,
                 tail: str = "") -> Project:
    root.mkdir(parents=True)
    (home / ".seamless").mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    result = Project(root, home, env, project)
    result.write("seamless.yaml", seamless_yaml(root, ports, project, dialect, tail))
    return result


def chains(log: Path) -> list[list[int]]:
    """One pid chain (the shell first) per time count.sh ran."""
    if not log.exists():
        return []
    return [[int(p) for p in line.split()] for line in log.read_text().splitlines()]
