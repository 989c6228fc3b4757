"""``python -m cramprules``: the same as the ``cramprules`` command."""

from cramprules.cli import main

main()
