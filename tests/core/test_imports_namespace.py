"""An SDK that is a namespace package (mistralai 3.x) is patched when the app imports it after instrument()."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_namespace_package_sdk_imported_after_instrument_is_patched() -> None:
    pytest.importorskip("mistralai.client")
    script = (
        "import tokentrace\n"
        "tokentrace.instrument()\n"
        "import mistralai\n"
        "from mistralai.client import Mistral\n"
        "import mistralai.client.chat as chat\n"
        "assert type(chat.Chat.complete).__name__ == 'BoundFunctionWrapper', type(chat.Chat.complete)\n"
        "assert hasattr(mistralai, '__path__') and Mistral is not None\n"
        "tokentrace.uninstrument()\n"
        "assert type(chat.Chat.complete).__name__ == 'function'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
