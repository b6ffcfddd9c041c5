"""`python -m papertrade`: the same entry point as the `papertrade` command."""

import sys

from papertrade.tui.cli import main

sys.exit(main())
