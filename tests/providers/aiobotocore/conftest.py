"""aiobotocore fixtures: real async Bedrock Runtime clients pointed at the local provider server.

aiobotocore pins its own botocore, so it lives in ``.ci-work/aiobotocore-venv``
(``.ci/install-aiobotocore.sh``); ``test_in_venv.py`` runs this folder there. In an interpreter
without aiobotocore the SDK tests are not collected (the venv runner is).
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any, Awaitable, Callable, TypeVar

collect_ignore_glob = [] if importlib.util.find_spec("aiobotocore") else ["test_aio_*.py"]

T = TypeVar("T")


def run(work: Callable[[Any], Awaitable[T]], server: Any) -> T:
    """Run ``work(client)`` with a fresh client inside its own event loop."""
    from aiobotocore.session import get_session
    from botocore.config import Config

    async def main() -> T:
        session = get_session()
        async with session.create_client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            config=Config(retries={"total_max_attempts": 1}),
        ) as client:
            return await work(client)

    return asyncio.run(main())
