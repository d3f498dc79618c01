"""Processes on this machine: whether one is alive, and whether it is the
server a state file names. Kept apart from ``local.py`` so that answering
these loads no subprocess machinery (the warm path asks them).

A state file is data anybody with the same uid (or a bug) may have
rewritten: its pid may be out of range, recycled by an unrelated program,
or another server's. So a pid is signalled or reused only once its command
line shows it is the expected server: the program, and the ``--status-file``
of that very key, which every server of tools.yaml is given and no other
process holds.
"""

from __future__ import annotations

import os
import shlex
import signal
import time
from typing import Any, Iterable

from .._record import frozen_record

# pid_t is a C int; Linux never goes past 2**22 (PID_MAX_LIMIT). Anything
# else in a state file (a huge number, a negative one, a string) is no pid.
PID_MAX = 2**22
KILL_POLL = 0.05


def valid_pid(pid: Any) -> bool:
    return isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid <= PID_MAX


def pid_alive(pid: Any) -> bool:
    """Whether ``pid`` is a live process; zombies count as dead (nobody may
    reap them when PID 1 is not an init), and so do values that are no pid."""
    if not valid_pid(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return True
    fields = stat.rsplit(")", 1)[-1].split()
    return not fields or fields[0] != "Z"


def signal_group(pid: int, sig: int) -> None:
    """Signal the process group ``pid`` leads (servers lead their own, and
    ``conda run`` wraps them), or ``pid`` alone; gone is fine."""
    if not valid_pid(pid):
        return
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_process(pid: int, grace: float = 3.0) -> None:
    """SIGTERM the process group led by ``pid`` (or ``pid`` alone), then
    SIGKILL after ``grace`` seconds."""
    if not pid_alive(pid):
        return
    signal_group(pid, signal.SIGTERM)
    end = time.monotonic() + grace
    while time.monotonic() < end:
        if not pid_alive(pid):
            return
        time.sleep(KILL_POLL)
    signal_group(pid, signal.SIGKILL)
    end = time.monotonic() + 1.0  # gone for good before anyone looks for it again
    while pid_alive(pid) and time.monotonic() < end:
        time.sleep(KILL_POLL)


@frozen_record
class Identity:
    """What the command line of a server process must hold: ``program`` (the
    base name of one argument, None when unknown) and ``status_file`` (the
    value of its ``--status-file``)."""

    program: str | None
    status_file: str

    def matches(self, args: Iterable[str]) -> bool:
        args = list(args)
        has_status = os.path.normpath(self.status_file) in status_files(args)
        has_program = self.program is None or any(os.path.basename(a) == self.program
                                                  for a in args)
        return has_status and has_program

    def matches_text(self, text: str) -> bool:
        """For ``ps -o args=`` output, whose words are joined by spaces (a
        status file with a space in its path is then never recognised: the
        process is left alone, which is the safe side)."""
        return self.matches(text.split())


def _status_values(args: list[str]) -> list[str]:
    found = []
    for i, arg in enumerate(args):
        if arg == "--status-file" and i + 1 < len(args):
            found.append(args[i + 1])
        elif arg.startswith("--status-file="):
            found.append(arg.split("=", 1)[1])
    return found


def program_of(command: Any) -> str | None:
    """The server program of a recorded command line (a ``conda run``
    wrapper skipped); None when there is none to tell."""
    words = command_words(command)
    return os.path.basename(words[0]) if words else None


def command_words(command: Any) -> list[str] | None:
    """A recorded command line as words, without a ``conda run ... -n ENV``
    or ``conda activate ENV && exec`` wrapper; None when unreadable."""
    if not isinstance(command, str):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) > 1 and os.path.basename(words[0]) == "conda" and words[1] == "run":
        rest = words[2:]
        while rest and rest[0].startswith("-"):
            rest = rest[2:] if rest[0] in ("-n", "--name", "-p", "--prefix") else rest[1:]
        words = rest
    return words or None


def same_command(recorded: Any, expected: list[str], home: str | None = None) -> bool:
    """Whether a recorded command line starts the server ``expected`` would:
    the same words, apart from the status file (the same key's, written
    differently by remote-http-launcher), a conda wrapper, and ``~``
    (remote-http-launcher expands it)."""
    words = command_words(recorded)
    wanted = command_words(shlex.join(expected))
    return words is not None and wanted is not None and \
        _comparable(words, home) == _comparable(wanted, home)


def _comparable(words: list[str], home: str | None) -> list[str]:
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "--status-file":
            skip = True
            continue
        if word.startswith("--status-file="):
            continue
        if home and (word == "~" or word.startswith("~/")):
            word = home.rstrip("/") + word[1:]
        out.append(word)
    out[:1] = [os.path.basename(w) for w in out[:1]]
    return out


def cmdline(pid: Any) -> list[str] | None:
    """The arguments of a live process of ours; None when they cannot be
    read (gone, a zombie, another user's)."""
    if not valid_pid(pid):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    if not raw:
        return None
    return [a.decode("utf-8", "surrogateescape") for a in raw.rstrip(b"\0").split(b"\0")]


def is_server(pid: Any, identity: Identity) -> bool:
    """Whether ``pid`` is alive and is the server of ``identity``."""
    if not pid_alive(pid):
        return False
    args = cmdline(pid)
    return args is not None and identity.matches(args)


def find_servers(identity: Identity) -> list[tuple[int, list[str]]]:
    """Every live process of this user that is the server of ``identity``
    (the outermost one when a wrapper such as ``conda run`` holds the same
    arguments): what a lost or corrupt state file no longer names."""
    return [(pid, args) for pid, args in top_level(own_processes())
            if identity.matches(args)]


def status_files(args: list[str]) -> list[str]:
    """The ``--status-file`` values in a command line, normalised."""
    return [os.path.normpath(v) for v in _status_values(args)]


def own_processes() -> list[tuple[int, int, list[str]]]:
    """(pid, parent pid, arguments) of every live process of this user."""
    found = []
    me, here = os.geteuid(), os.getpid()
    try:
        entries = [int(e) for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []
    for pid in entries:
        if pid == here:
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != me:
                continue
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        args = cmdline(pid)
        if args and len(fields) > 1 and fields[0] != "Z" and fields[1].isdigit():
            found.append((pid, int(fields[1]), args))
    return found


def parse_ps(text: str) -> list[tuple[int, int, list[str]]]:
    """``ps -ww -o pid=,ppid=,args=`` output, as ``own_processes`` gives it."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].isdigit() and words[1].isdigit():
            found.append((int(words[0]), int(words[1]), words[2:]))
    return found


def top_level(processes: list[tuple[int, int, list[str]]]) -> list[tuple[int, list[str]]]:
    """Processes whose parent does not hold the same status file: the
    server or its wrapper, each once."""
    by_pid = {pid: (ppid, args) for pid, ppid, args in processes}
    out = []
    for pid, ppid, args in sorted(processes):
        mine = set(status_files(args))
        parent = by_pid.get(ppid)
        if mine and parent is not None and mine & set(status_files(parent[1])):
            continue
        out.append((pid, args))
    return out
