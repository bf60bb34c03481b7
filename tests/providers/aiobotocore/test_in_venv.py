"""Runs the aiobotocore tests in the venv that has aiobotocore (its botocore differs from ours).

``.ci/install-aiobotocore.sh`` builds ``.ci-work/aiobotocore-venv``; the runner is
``suite_in_venv`` in ``tests/providers/conftest.py``, with the shared hardening tests (faults,
fuzz, secrets) for this adapter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def test_aiobotocore_suite_in_its_venv(suite_in_venv: Callable[..., None]) -> None:
    suite_in_venv(
        "aiobotocore", "aiobotocore-venv", ".ci/install-aiobotocore.sh", Path(__file__).parent,
        "test_aio_*.py", "aiobotocore or test_aio_ or test_no_secret",
    )
