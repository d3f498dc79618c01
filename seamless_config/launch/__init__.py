"""The effect boundary: what starts servers and tunnels, opens sockets and
SSH sessions, and reads and writes launcher state (hosts.py: one machine,
here or over SSH; executor.py: make one server run; executables.py: which
program a server command runs; verify.py: seamless-init's own checks of
each server; stage_check.py: whether a requested stage looks mistyped).

Deferred imports (inside functions), all for start-up time: neither
``import seamless_config`` nor the warm path of ``seamless-init`` (a
recorded server reused through ``executor.reuse_local``) loads these:

- fabric, paramiko and invoke (~170 ms): in ``ssh.py`` and ``ssh_host.py``,
  once a frontend is contacted;
- the launching modules ``local``, ``remote``, ``ssh`` and ``tunnel``
  (subprocess, threading, the SSH code) and ``concurrent.futures``: in
  ``executor.py``, once a server is launched or several are ensured;
- subprocess: in ``hosts.LocalHost``, for the ``ps`` and ``tail`` that only
  ``services`` asks for;
- the Seamless runtime (seamless, seamless_remote, seamless_dask,
  distributed): in ``activation.py`` and ``runtime.py``, once clients are
  activated (never by a plain ``seamless-init``, which verifies with its
  own requests);
- tempfile (in ``state.write_json``), hashlib (in ``verify.checksum_of``;
  the probes' checksums are written out) and urllib.parse (Dask dashboard
  URLs only): the warm ``seamless-init`` needs none of them.
"""
