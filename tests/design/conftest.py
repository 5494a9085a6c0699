"""Fixtures for the design tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def one_thread():
    """Small texture GANs: one intra-op thread is as fast on two cores and never spin-waits
    for a descheduled second thread when the machine is busy (a 1-step run took 7 s, not 0.5)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
