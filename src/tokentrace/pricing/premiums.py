"""Price premiums a call's endpoint implies, beyond the model's list price.

Claude on Google Vertex AI: from Claude Sonnet 4.5 and Haiku 4.5 on, regional (and multi-region)
endpoints cost 10 % more than the global endpoint (Anthropic pricing page, "Third-party platform
pricing"; Vertex AI Claude pricing). Earlier Claude models have one price everywhere. On Bedrock
the same premium is part of the base data (genai-prices lists ``regional.`` and ``global.`` ids).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

VERTEX_REGIONAL_FACTOR = 1.1
_CLAUDE_VERSION = re.compile(r"claude-(?:opus|sonnet|haiku|fable|mythos)-(\d+)(?:[-.](\d+))?")


@lru_cache(maxsize=256)
def vertex_regional_premium(model: str, region: Optional[str]) -> float:
    """1.1 for Claude 4.5 and later on a regional Vertex endpoint, else 1.0."""
    if not region or region == "global":
        return 1.0
    match = _CLAUDE_VERSION.search(model.lower())
    if not match:
        return 1.0
    major = int(match.group(1))
    minor = int(match.group(2)) if match.group(2) and len(match.group(2)) <= 2 else 0
    return VERTEX_REGIONAL_FACTOR if (major, minor) >= (4, 5) else 1.0
