"""Tools for the people who write rulesets: check, fmt, test, and their helpers.

Nothing here is needed to evaluate facts, so none of it is imported by
:mod:`cramprules` itself.  The command line reaches it through
``cramprules check``, ``cramprules fmt`` and ``cramprules test``; pytest
reaches it through the ``cramprules`` plugin that collects ``.cramp`` examples.
"""

from __future__ import annotations

__all__: list[str] = []
