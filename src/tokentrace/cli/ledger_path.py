"""Which ledger file ``tokentrace run`` / ``demo`` write and ``report`` / ``focus`` read."""

from __future__ import annotations

import os
from typing import Optional

from ..core.config import parse_ledger
from ..ledger.store import default_path


def chosen_ledger(option: Optional[str]) -> Optional[str]:
    """``--ledger`` if given, else ``TOKENTRACE_LEDGER``, else the default file; ``None`` when turned off."""
    if option is not None:
        return parse_ledger(option)
    configured = os.environ.get("TOKENTRACE_LEDGER")
    if configured is not None:
        return parse_ledger(configured)
    return str(default_path())
