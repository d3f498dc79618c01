"""The published releases the suite compares against (the versions on which
the compatibility facts were observed).  Changing any pin rebuilds the
cached side venv, because the cache key is derived from this module."""

from __future__ import annotations

# The sdists whose tests we run; their code is never copied into the repo.
SDISTS = {
    "seamless-config": "0.3.2",
    "seamless-transformer": "0.6.1",
    "seamless-dask": "0.4",
}

# The rest of the published stack, installed beside them in the side venv.
STACK = {
    "seamless-core": "0.1.4",
    "seamless-remote": "0.4.0",
    "remote-http-launcher": "0.4.5",
    # the servers 0.3.2 launches in the end-to-end tests
    "hashserver": "1.1.0",
    "seamless-database": "2.1.0",
    "seamless-jobserver": "0.3.0",
}

# Unpinned helpers: hashserver imports aiofiles without declaring it; the
# client test files import numpy; the runner needs pytest and pytest-timeout.
HELPERS = ("aiofiles", "numpy", "pytest", "pytest-timeout")

# What the main environment must have too (pyproject's test extra pins
# them): the client test files and the CLIs run there against our package.
MAIN_ENV = tuple(n for n in (*SDISTS, *STACK) if n != "seamless-config")


def version(name: str) -> str:
    return {**SDISTS, **STACK}[name]


def requirement(name: str) -> str:
    return f"{name}=={version(name)}"
