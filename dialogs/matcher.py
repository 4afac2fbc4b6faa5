"""Free-text questions → routes.

Terms come from knowledge/data/vocabulary.yaml plus the names in the knowledge itself
(business, category, material and office names, cities), so a new business is found by
its name without code changes. Chinese terms match as substrings; Latin and Cyrillic
terms match at word starts (so "lost" does not fire inside "almost", but "потерял" finds
"потеряла"). No dictionary segmenter is needed, so start-up stays fast.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge import Knowledge

MAX_QUESTION = 500  # characters considered; longer input is cut, not rejected
CONFIDENT_SCORE = 1.0
MARGIN = 1.25  # the best must beat the runner-up by this factor to be answered directly
MIN_SUGGEST = 0.5
_WORD_CHARS = re.compile(r"[a-zа-яё0-9]", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    route: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    question: str
    matches: tuple[Match, ...]

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    @property
    def confident(self) -> bool:
        if not self.matches or self.matches[0].score < CONFIDENT_SCORE:
            return False
        return len(self.matches) == 1 or self.matches[0].score >= MARGIN * self.matches[1].score

    @property
    def suggestions(self) -> tuple[Match, ...]:
        return tuple(m for m in self.matches[:3] if m.score >= MIN_SUGGEST)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text[:MAX_QUESTION]).lower().replace("ё", "е")
    return re.sub(r"\s+", " ", text).strip()


def _route(target: str, first_step: str | None) -> str:
    kind, _, name = target.partition(":")
    if kind == "screen":
        return name
    if kind == "online":
        return f"walk:{first_step if name == 'start' else name}"
    return target


class Matcher:
    def __init__(self, kb: Knowledge):
        terms: dict[str, dict[str, float]] = {}  # term -> route -> weight

        def add(term: str, route: str, weight: float) -> None:
            term = normalise(term)
            if len(term) < 2:
                return
            slot = terms.setdefault(term, {})
            slot[route] = max(slot.get(route, 0.0), weight)

        for b in kb.businesses.values():
            add(b.name, f"topic:{b.id}", 1.5)
        for c in kb.categories.values():
            add(c.name, f"category:{c.id}", 1.0)
        for m in kb.materials.values():
            add(m.name, f"material:{m.id}", 1.0)
        for city in kb.cities:
            add(city, f"city:{city}", 1.5)
        for o in kb.offices.values():
            add(o.name, f"city:{o.city}", 1.2)
        first_step = kb.steps[0].id if kb.steps else None
        for v in kb.vocabulary:
            for t in v.terms:
                add(t, _route(v.target, first_step), v.weight)
        self._terms = terms
        cjk = [t for t in terms if not _WORD_CHARS.search(t)]
        words = [t for t in terms if _WORD_CHARS.search(t)]
        # One regex per script; longest first so the most specific term wins an overlap.
        self._cjk = re.compile("|".join(re.escape(t) for t in sorted(cjk, key=len, reverse=True))) if cjk else None
        self._words = (
            re.compile(r"(?<![a-zа-я0-9])(?:" + "|".join(re.escape(t) for t in sorted(words, key=len, reverse=True)) + ")")
            if words
            else None
        )

    def _found_terms(self, text: str) -> set[str]:
        found: set[str] = set()
        if self._cjk:
            # overlapping search: try every start position, longest term first
            pos = 0
            while True:
                m = self._cjk.search(text, pos)
                if not m:
                    break
                found.add(m.group(0))
                pos = m.start() + 1
        if self._words:
            found.update(m.group(0) for m in self._words.finditer(text))
        return found

    def match(self, question: str) -> MatchResult:
        text = normalise(question)
        scores: dict[str, list[float]] = {}
        found = self._found_terms(text)
        # a term inside a longer found term counts only through the longer one
        found = {t for t in found if not any(t != o and t in o for o in found)}
        for term in found:
            length_bonus = 1.0 + 0.15 * min(len(term) - 2, 6) if not _WORD_CHARS.search(term) else 1.0 + 0.05 * min(len(term) - 3, 6)
            for route, weight in self._terms[term].items():
                scores.setdefault(route, []).append(weight * length_bonus)
        ranked = []
        for route, parts in scores.items():
            parts.sort(reverse=True)
            ranked.append(Match(route, round(parts[0] + 0.3 * sum(parts[1:]), 3)))
        ranked.sort(key=lambda m: (-m.score, m.route))
        return MatchResult(question, tuple(ranked))
