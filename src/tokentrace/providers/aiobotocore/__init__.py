"""aiobotocore: the async Bedrock Runtime client (Converse, ConverseStream, InvokeModel(+stream)).

aiobotocore's ``AioBaseClient`` overrides botocore's ``_make_api_call`` with a coroutine, so the
boto3 adapter's patch never sees its calls; this adapter patches that one coroutine and reads
requests and responses through the same Bedrock translation (:mod:`..bedrock.extract` and the
Bedrock stream state), so both clients record the same usage, cost and attributes.
"""

from __future__ import annotations

from typing import List

from ..base import Patch, ProviderInstrumentor
from .wrapper import make_api_call_wrapper


class AiobotocoreInstrumentor(ProviderInstrumentor):
    name = "aiobotocore"
    module = "aiobotocore"

    def patches(self) -> List[Patch]:
        return [Patch("aiobotocore.client", "AioBaseClient._make_api_call", make_api_call_wrapper)]


__all__ = ["AiobotocoreInstrumentor"]
