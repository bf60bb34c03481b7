"""Model names as vendors' *bills* spell them, turned into ids the catalog resolves.

Invoices and cost exports do not use API model ids: AWS's Cost and Usage Report names Bedrock
models inside the usage type (``USE1-Claude4.6Sonnet-input-tokens``), Google's billing export
in SKU descriptions (``Gemini 2.5 Flash Input Text Tokens``), Azure in meter names
(``gpt-4o-0806-Inp-glbl``), OpenAI's Costs API in free-text line items
(``gpt-4o-2024-08-06, input``). Reconciliation compares models through one identity, the
catalog's, so these spellings are translated here, next to the API-id resolution in
``resolve``, and then resolved exactly like a call's model.
"""

from __future__ import annotations

import re
from typing import Optional

# "Claude4.6Sonnet", "Claude3.5Haiku", "ClaudeSonnet4.5", "Claude3Opus"
_CLAUDE_FAMILY_LAST = re.compile(r"^claude[-_ ]?(?P<version>\d+(?:[._]\d+)?)[-_ ]?(?P<family>opus|sonnet|haiku)$", re.I)
_CLAUDE_FAMILY_FIRST = re.compile(r"^claude[-_ ]?(?P<family>opus|sonnet|haiku)[-_ ]?(?P<version>\d+(?:[._]\d+)?)$", re.I)
# "NovaPro", "Nova2Lite", "NovaMicro"
_NOVA = re.compile(r"^nova[-_ ]?(?P<version>\d+)?[-_ ]?(?P<size>pro|lite|micro|premier)$", re.I)
# "Llama3.3-70B", "Llama4Maverick17B"
_LLAMA = re.compile(r"^llama[-_ ]?(?P<version>\d+(?:[._]\d+)?)[-_ ]?(?P<rest>.+)$", re.I)


def bedrock_model_from_usage_type(model_part: str) -> str:
    """The Bedrock model id for the model part of a CUR usage type (unknown spellings pass through).

    Anthropic models after Claude 3.5 are named family-first in API ids
    (``anthropic.claude-sonnet-4-6``) but version-first in usage types (``Claude4.6Sonnet``);
    Claude 3.x ids are version-first (``anthropic.claude-3-5-haiku``).
    """
    text = model_part.strip()
    match = _CLAUDE_FAMILY_LAST.match(text) or _CLAUDE_FAMILY_FIRST.match(text)
    if match:
        version = re.sub(r"[._]", "-", match.group("version"))
        family = match.group("family").lower()
        major = int(version.split("-")[0])
        if major < 4:
            return f"anthropic.claude-{version}-{family}"
        return f"anthropic.claude-{family}-{version}"
    match = _NOVA.match(text)
    if match:
        version = match.group("version")
        size = match.group("size").lower()
        return f"amazon.nova-{version + '-' if version else ''}{size}"
    match = _LLAMA.match(text)
    if match:
        version = re.sub(r"[._]", "-", match.group("version"))
        rest = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", "-", match.group("rest").lower()).strip("-")
        return f"meta.llama{version}-{rest}-instruct"
    return text


def openai_line_item_model(line_item: str) -> Optional[str]:
    """The model of an OpenAI Costs API line item such as ``"gpt-4o-2024-08-06, input"``."""
    head = line_item.split(",", 1)[0].strip()
    return head or None


_GEMINI_SKU = re.compile(r"(?P<model>gemini[\s-]+\d+(?:\.\d+)?(?:[\s-]+(?:pro|flash|flash[\s-]+lite|ultra|nano))?)", re.I)
_CLAUDE_SKU = re.compile(r"(?P<model>claude[\s-]+(?:(?:opus|sonnet|haiku)[\s-]+\d+(?:\.\d+)?|\d+(?:\.\d+)?[\s-]+(?:opus|sonnet|haiku)))", re.I)


def gcp_sku_model(description: str) -> Optional[str]:
    """The model named in a Google Cloud billing SKU description (``Gemini 2.5 Flash Input Text``)."""
    match = _GEMINI_SKU.search(description)
    if match:
        return re.sub(r"[\s]+", "-", match.group("model").strip().lower())
    match = _CLAUDE_SKU.search(description)
    if match:
        words = re.split(r"[\s-]+", match.group("model").strip().lower())
        family = next(w for w in words if w in ("opus", "sonnet", "haiku"))
        version = next(w for w in words if w[0].isdigit()).replace(".", "-")
        return f"claude-{family}-{version}"
    return None


_AZURE_METER_NOISE = re.compile(
    r"[\s-]+(?:cached|cchd|cache|inp|input|outp|output|inpt|outpt|glbl|global|regional|rgnl|dzone|datazone|data[\s-]zone|batch|tokens?|1k|1m)\b.*$",
    re.I,
)
_AZURE_SHORT_DATE = re.compile(r"-(?P<mm>\d{2})(?P<dd>\d{2})$")


def azure_meter_model(meter_name: str) -> Optional[str]:
    """The model of an Azure OpenAI meter name such as ``gpt-4o-0806-Inp-glbl`` or ``gpt 4o mini cchd inp``.

    Azure writes dates as ``MMDD`` (``0806``); the model's year is not in the meter, so the date
    is dropped and the model resolves to its base name.
    """
    text = re.sub(r"\s+", "-", meter_name.strip().lower())
    text = _AZURE_METER_NOISE.sub("", text.replace("-", " ")).strip().replace(" ", "-")
    text = _AZURE_SHORT_DATE.sub("", text)
    return text or None
