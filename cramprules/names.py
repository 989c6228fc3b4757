"""Edit distances and "did you mean" suggestions for misspelt names."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest", "edit_distance", "is_probable_typo"]


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
    that to mean a slip of the keyboard rather than a different word."""
    if name == known:
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
