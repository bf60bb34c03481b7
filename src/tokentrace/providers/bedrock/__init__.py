"""AWS Bedrock Runtime (boto3 ``bedrock-runtime``): Converse, ConverseStream, InvokeModel(+stream).

boto3 generates client classes at runtime, so the one stable choke point is
``botocore.client.BaseClient._make_api_call``; the wrapper passes every other service and
operation straight through after two attribute reads. boto3 has no async client (aiobotocore
is a separate project and is not patched here).
"""

from __future__ import annotations

from typing import List

from ..base import Patch, ProviderInstrumentor
from .wrapper import make_api_call_wrapper


class BedrockInstrumentor(ProviderInstrumentor):
    name = "bedrock"
    module = "botocore"

    def patches(self) -> List[Patch]:
        return [Patch("botocore.client", "BaseClient._make_api_call", make_api_call_wrapper)]


__all__ = ["BedrockInstrumentor"]
