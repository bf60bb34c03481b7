"""``python -m tokentrace`` is the ``tokentrace`` command."""

import sys

from .cli.main import main

sys.exit(main())
