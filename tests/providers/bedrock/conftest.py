"""Bedrock fixtures: real boto3 clients pointed at the local provider server.

Real botocore request signing, URL encoding of model ids and event-stream decoding run; only the
endpoint is local. Retries are off so error tests see the first failure.
"""

from __future__ import annotations

from typing import Any, Callable

import boto3
import pytest
from botocore.config import Config

from tokentrace.testing import ProviderServer


def make_client(server: ProviderServer) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture
def bedrock(server: ProviderServer) -> Any:
    return make_client(server)


@pytest.fixture
def bedrock_factory(server: ProviderServer) -> Callable[[], Any]:
    return lambda: make_client(server)
