"""``cramprules lsp``: a Language Server Protocol server for ``.cramp`` files.

The answers (diagnostics, hover, definitions, completion, colours, quick
fixes) come from :mod:`cramprules.lsp.analysis`, which needs only the
library; :mod:`cramprules.lsp.server` speaks the protocol with pygls, an
optional extra (``pip install 'cramprules[lsp]'``).
"""

from __future__ import annotations

__all__: list[str] = []
