"""pytest fixtures for the emulated Microsoft cloud (see tests/fakecloud/cloud.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .cloud import Defaults, FakeCloud

__all__ = ["Defaults", "FakeCloud", "fakecloud"]


@pytest.fixture
def fakecloud(tmp_path: Path) -> Iterator[FakeCloud]:
    """A fresh emulated cloud (empty: call setup_default() or add_* yourself), started before
    the test and stopped after it."""
    cloud = FakeCloud(tmp_path / "fakecloud")
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()
