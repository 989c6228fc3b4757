"""Edit distances and "did you mean" suggestions for misspelt names."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["NameIndex", "closest", "edit_distance", "is_probable_typo"]

_DIGITS = re.compile(r"\d+")


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions
    and swaps of neighbours each count one.  Stops early above ``limit``."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def is_probable_typo(name: str, known: str) -> bool:
    """Whether ``name`` is one or two edits from ``known`` and long enough for
    that to mean a slip of the keyboard rather than a different word.

    Names that differ only in their digits (``dose1``, ``dose2``) are
    numbered on purpose, not misspelt."""
    if name == known or abs(len(name) - len(known)) > 2:
        return False
    if _DIGITS.sub("", name) == _DIGITS.sub("", known):
        return False
    distance = edit_distance(name, known, limit=2)
    return distance <= 2 and 3 * distance <= max(len(name), len(known))


def closest(name: str, candidates: Iterable[str], *, typo_only: bool = False) -> str | None:
    """The candidate nearest to ``name``, if one is near enough to suggest."""
    best: tuple[int, str] | None = None
    for candidate in candidates:
        if candidate == name:
            continue
        if typo_only and not is_probable_typo(name, candidate):
            continue
        distance = edit_distance(name.lower(), candidate.lower(), limit=3)
        if distance > max(1, min(3, len(name) // 3 + 1)):
            continue
        if best is None or (distance, candidate) < best:
            best = (distance, candidate)
    return best[1] if best else None


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` characters deleted, in every way."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class NameIndex:
    """Finds the names within two edits of a word without comparing it to all.

    Two words within two edits share a variant made by deleting at most two
    characters from each (the symmetric-deletion idea of SymSpell), so a
    lookup costs the word's own variants, however many names are indexed.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._variants: dict[str, set[str]] = {}
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        for variant in _deletions(name, 2):
            self._variants.setdefault(variant, set()).add(name)

    def typo_of(self, word: str) -> str | None:
        """The indexed name ``word`` is probably a misspelling of (shortest first)."""
        # A typo is at most one edit in a word of under six letters (see
        # is_probable_typo), so short words need only one-letter deletions.
        depth = 2 if len(word) >= 6 else 1
        candidates: set[str] = set()
        for variant in _deletions(word, depth):
            candidates |= self._variants.get(variant, set())
        matches = [c for c in candidates if is_probable_typo(word, c)]
        return min(matches, key=lambda c: (len(c), c)) if matches else None
