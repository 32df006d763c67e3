"""Shared fixtures: the repository's folders and a fresh engine on the shipped definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepchart import Engine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def base_engine() -> Engine:
    """Charts and rules compiled once per test session; spawn() per test for isolation."""
    return Engine()


@pytest.fixture
def engine(base_engine: Engine) -> Engine:
    return base_engine.spawn()
