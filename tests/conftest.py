"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_bwrap(tmp_path, monkeypatch):
    """A PATH without bubblewrap: the Python tool's sandbox cannot start; returns the reason."""
    from agent.sandbox import python_unavailable

    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    reason = python_unavailable()
    assert reason and reason.startswith("the Python tool is disabled: bubblewrap (`bwrap`) is not installed")
    return reason
