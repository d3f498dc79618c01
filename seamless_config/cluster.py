"""Compatibility: ``seamless_config.cluster`` lookups by name."""

from __future__ import annotations

from .errors import ConfigurationError, did_you_mean
from .model import Cluster, Frontend, Queue, Service  # noqa: F401  (re-exported)
from .session import default_session


def get_clusters():
    """All known clusters: the catalogue merged with inline definitions."""
    return default_session().context().clusters


def get_cluster(name: str) -> Cluster:
    clusters = get_clusters()
    if name not in clusters:
        hint = did_you_mean(name, clusters) or ""
        raise ConfigurationError(f"unknown cluster '{name}' {hint}".rstrip())
    return clusters[name]


def get_local_cluster() -> str | None:
    return default_session().context().local_cluster
