"""``python -m certsvc.cli``: the same as the ``certsvc`` script."""

import sys

from certsvc.cli import main

sys.exit(main())
