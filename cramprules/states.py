"""The state of one rule after evaluation, and the word a trace shows for it.

The compiled deciders return one small integer per rule; this enum names
them.  The order matters: every state below :attr:`State.NOT_MATCHED` is
still *live* (it may yet show), and ``state <= CONDITIONAL`` means the rule
applies.
"""

from __future__ import annotations

import enum
from typing import Literal

__all__ = ["OUTCOMES", "Outcome", "State"]

Outcome = Literal["fired", "not_matched", "pending", "defeated", "overridden"]


class State(enum.IntEnum):
    """What happened to a rule.  A conditional rule fired with a caveat."""

    FIRED = 0
    CONDITIONAL = 1
    PENDING = 2
    NOT_MATCHED = 3
    DEFEATED = 4
    OVERRIDDEN = 5

    @property
    def outcome(self) -> Outcome:
        """The trace word for this state (a conditional rule is ``fired``)."""
        return OUTCOMES[self]


OUTCOMES: tuple[Outcome, ...] = ("fired", "fired", "pending", "not_matched", "defeated", "overridden")
"""Trace outcome of each state, indexed by the state's number."""
