"""The local knowledge overlay: question forms staff taught the guide.

Staff attach a question the guide could not answer to the answer or business that answers
it (``eport-guide teach "QUESTION" ROUTE`` or the admin screen in the bot). The question is
kept in a YAML file beside the database (``knowledge-overlay.yaml``), not in the package, so
it survives reinstalling or upgrading; ``build_guide`` and ``/reload`` read it on top of the
knowledge files. The overlay can only *add question forms*: an entry has a question, a
route (``answer:ID`` or ``topic:ID``), its language and the day it was taught — nothing else
is accepted, so quotes, annotations and plain answers are never edited by teaching.

A question taught to ``answer:ID`` joins that answer's ``questions`` (in its language); one
taught to ``topic:ID`` joins the words people use for that business (a vocabulary entry).
Whatever reads the knowledge (the free-text matcher) sees them like the packaged forms.

The validator (``check-knowledge``, start-up, ``/reload``) reports every problem as
``file:line: path: message``: the route must exist, the language must be the one the
question is written in, the question must be one line of plain text of at most
``MAX_QUESTION`` characters without personal numbers, and no question may be taught twice
or be a question form of another answer already.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError

from .loader import Knowledge, KnowledgeError, Problem, _fmt, _line_for, _read_yaml
from .route import Route, parse_or_none
from .schema import QuestionForms, Strict, VocabularyEntry

OVERLAY_FILE = "knowledge-overlay.yaml"
MAX_QUESTION = 100  # characters: as long as a logged question may be
MIN_QUESTION = 2
MAX_ENTRIES = 5000
KINDS = ("answer", "topic")
HEADER = (
    "# Questions staff taught eport-guide (`eport-guide teach`, or /stats → 🧩 in the bot).\n"
    "# Each entry adds one question form to an answer (answer:ID) or a business (topic:ID); nothing\n"
    "# else can be set here. Checked by `eport-guide check-knowledge`; read at start-up and by /reload.\n"
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_MARKUP = re.compile(r"[<>]|\{\{|\}\}|\{%|%\}")
_PERSONAL_NUMBER = re.compile(r"\d(?:[\d\s\-–—.()/]*\d)?")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


class Taught(Strict):
    """One taught question form."""

    question: str = Field(min_length=1)
    route: str = Field(pattern=r"^[a-z_]{1,20}:[a-z0-9_]{1,40}$")
    lang: Literal["zh", "ru", "en"] | None = None  # detected from the question when not given
    taught_on: dt.date


def normalise(question: str) -> str:
    """The form two questions are compared in: NFKC, lower case, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", question).lower().split())


def detect_language(question: str) -> str | None:
    """zh if the question has Chinese characters, else ru for Cyrillic, en for Latin letters."""
    if _CJK.search(question):
        return "zh"
    if _CYRILLIC.search(question):
        return "ru"
    if _LATIN.search(question):
        return "en"
    return None


def question_problem(question: str) -> str | None:
    """Why a text cannot be a question form (None: it can): plain text, one line, bounded."""
    if "\n" in question or "\r" in question:
        return "must be one line"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in question):
        return "must be plain text (it has control or invisible characters)"
    text = " ".join(question.split())
    if not MIN_QUESTION <= len(text) <= MAX_QUESTION:
        return f"must be {MIN_QUESTION} to {MAX_QUESTION} characters long, not {len(text)}"
    if _MARKUP.search(text):
        return "must be plain text (no <, >, {{ or {%)"
    if _EMAIL.search(text) or any(sum(c.isdigit() for c in m.group()) >= 5 for m in _PERSONAL_NUMBER.finditer(text)):
        return "looks like it holds an e-mail address or an ID, phone or account number; teach it without"
    if detect_language(text) is None:
        return "has no Chinese, Cyrillic or Latin letters: cannot tell its language"
    return None


def route_problem(kb: Knowledge, route: str) -> str | None:
    """Why a route cannot be taught (None: it can): it must name an answer or a business."""
    parsed = parse_or_none(route)
    kind, name = (parsed.screen, parsed.arg) if parsed is not None else ("", None)
    if kind not in KINDS:
        return f"unknown route {route!r}: a question is taught to answer:ID or topic:ID"
    if kind == "answer" and name not in kb.base.answers:
        return f"unknown route {route!r}: no answer {name!r} in the knowledge (renamed or removed?)"
    if kind == "topic" and name not in kb.base.businesses:
        return f"unknown route {route!r}: no business {name!r} in the knowledge (renamed or removed?)"
    return None


def packaged_forms(kb: Knowledge) -> dict[str, str]:
    """The packaged question forms (normalised) → the answer route that has them."""
    forms: dict[str, str] = {}
    for a in kb.base.answers.values():
        for lang in ("zh", "ru", "en"):
            for q in getattr(a.questions, lang):
                forms.setdefault(normalise(q), f"answer:{a.id}")
    return forms


def read_overlay(path: Path, kb: Knowledge) -> tuple[list[Taught], list[Problem]]:
    """The overlay's entries, checked against ``kb`` (its packaged knowledge), and every problem."""
    name = str(path)
    raw, lines, problems = _read_yaml(path)
    problems = [Problem(name, p.line, p.path, p.message) for p in problems]
    if problems or raw is None:
        return [], problems
    if not isinstance(raw, dict):
        return [], [Problem(name, 1, "", "expected a mapping with the key 'questions'")]
    for extra in sorted(set(raw) - {"questions"}):
        problems.append(
            Problem(
                name,
                _line_for(lines, (extra,)),
                str(extra),
                "unknown top-level key: the overlay holds only 'questions' (taught question forms)",
            )
        )
    items = raw.get("questions") or []
    if not isinstance(items, list):
        return [], problems + [Problem(name, _line_for(lines, ("questions",)), "questions", "must be a list")]
    if len(items) > MAX_ENTRIES:
        problems.append(Problem(name, _line_for(lines, ("questions",)), "questions", f"more than {MAX_ENTRIES} entries"))
        items = items[:MAX_ENTRIES]
    packaged = packaged_forms(kb)
    seen: dict[str, int | None] = {}
    out: list[Taught] = []
    for i, item in enumerate(items):

        def err(*rest: str, msg: str, i: int = i) -> None:
            loc = ("questions", i, *rest)
            problems.append(Problem(name, _line_for(lines, loc), _fmt(loc), msg))

        try:
            entry = Taught.model_validate(item)
        except ValidationError as exc:
            for e in exc.errors():
                loc = ("questions", i, *e["loc"])
                msg = e["msg"]
                if e["type"] == "extra_forbidden":
                    msg = "not allowed: teaching only adds question forms (question, route, lang, taught_on)"
                problems.append(Problem(name, _line_for(lines, loc), _fmt(loc), msg))
            continue
        bad = len(problems)
        if (why := question_problem(entry.question)) is not None:
            err("question", msg=why)
        elif entry.lang and entry.lang != detect_language(entry.question):
            err("lang", msg=f"is {entry.lang!r} but the question is written in {detect_language(entry.question)!r}")
        if (why := route_problem(kb, entry.route)) is not None:
            err("route", msg=why)
        key = normalise(entry.question)
        if key in seen:
            err("question", msg=f"taught twice (first at line {seen[key]})")
        elif packaged.get(key, entry.route) != entry.route:
            err("question", msg=f"is already a question form of {packaged[key]} in answers.yaml")
        seen.setdefault(key, _line_for(lines, ("questions", i)))
        if len(problems) == bad:
            out.append(entry)
    return out, problems


def with_taught(kb: Knowledge, taught: list[Taught], path: Path | None = None) -> Knowledge:
    """``kb``'s packaged knowledge plus the taught question forms (validated entries)."""
    base = kb.base
    data = dict(base.data)
    extra: dict[str, dict[str, list[str]]] = {}
    topics: dict[str, list[str]] = {}
    packaged = packaged_forms(base)
    for t in taught:
        parsed = parse_or_none(t.route) or Route("")  # checked when it was read (route_problem)
        kind, name = parsed.screen, parsed.arg
        question = " ".join(t.question.split())
        if kind == "answer" and normalise(question) not in packaged:
            extra.setdefault(name, {}).setdefault(t.lang or detect_language(question) or "zh", []).append(question)
        elif kind == "topic":
            topics.setdefault(name, []).append(question)
    answers = []
    for a in data.get("answers", []):
        if a.id in extra:
            forms = {lang: [*getattr(a.questions, lang), *extra[a.id].get(lang, [])] for lang in ("zh", "ru", "en")}
            a = a.model_copy(update={"questions": QuestionForms(**forms)})
        answers.append(a)
    data["answers"] = answers
    data["vocabulary"] = [
        *data.get("vocabulary", []),
        *(VocabularyEntry(target=f"topic:{name}", terms=terms) for name, terms in topics.items()),
    ]
    out = Knowledge(data, base.directory)
    out.taught, out.overlay, out.base = tuple(taught), path, base
    return out


def apply_overlay(kb: Knowledge, path: str | os.PathLike | None) -> Knowledge:
    """``kb`` with the overlay at ``path`` (none there: ``kb``'s packaged knowledge unchanged).
    Raises KnowledgeError listing every problem of the overlay with file and line."""
    if path is None:
        return kb.base
    path = Path(path)
    if not path.exists():
        return kb.base
    taught, problems = read_overlay(path, kb)
    if problems:
        raise KnowledgeError(problems)
    return with_taught(kb, taught, path)


class TeachError(ValueError):
    """A question or route that cannot be taught (the message says why); nothing was written."""


@dataclass(frozen=True)
class Lesson:
    """What one teaching did: ``previous`` is the route the question was taught to before (None: new)."""

    question: str
    route: str
    lang: str
    previous: str | None

    @property
    def changed(self) -> bool:
        """Whether teaching it changed the overlay."""
        return self.previous != self.route


def teach(
    path: str | os.PathLike,
    kb: Knowledge,
    lessons: list[tuple[str, str]],
    *,
    lang: str | None = None,
    today: dt.date | None = None,
) -> list[Lesson]:
    """Attach each (question, route) in ``lessons`` to its route in the overlay at ``path`` and write
    the file (atomically; a question taught before to another route moves). The whole overlay is
    validated first: nothing is written if it has a problem (KnowledgeError, file and line) or a
    lesson cannot be taught (TeachError)."""
    path = Path(path)
    today = today or dt.date.today()
    existing: list[Taught] = []
    if path.exists():
        existing, problems = read_overlay(path, kb)
        if problems:
            raise KnowledgeError(problems)
    by_key = {normalise(t.question): n for n, t in enumerate(existing)}
    entries = list(existing)
    done: list[Lesson] = []
    problems: list[Problem] = []
    packaged = packaged_forms(kb)
    for question, route in lessons:
        question = " ".join((question or "").split())
        where = f"{question!r} → {route}"
        if (why := question_problem(question)) is not None or (why := route_problem(kb, route)) is not None:
            problems.append(Problem(str(path), None, where, why))
            continue
        detected = detect_language(question) or "zh"
        if lang and lang != detected:
            problems.append(Problem(str(path), None, where, f"--lang is {lang!r} but the question is written in {detected!r}"))
            continue
        entry = Taught(question=question, route=route, lang=detected, taught_on=today)
        key = normalise(question)
        if packaged.get(key, route) != route:
            problems.append(Problem(str(path), None, where, f"is already a question form of {packaged[key]} in answers.yaml"))
            continue
        if key in by_key:
            previous = entries[by_key[key]].route
            if previous != route:
                entries[by_key[key]] = entry
        else:
            previous = None
            by_key[key] = len(entries)
            entries.append(entry)
        done.append(Lesson(question, route, detected, previous))
    if problems:
        raise TeachError("; ".join(f"{p.path}: {p.message}" for p in problems))
    if any(lesson.changed for lesson in done):
        text = HEADER + yaml.dump(
            {"questions": [e.model_dump(exclude_none=True) for e in entries]},
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            width=1000,
        )
        _write_atomically(path, text, kb)
    return done


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: object) -> bool:  # one date per entry, written out (no &id001)
        return True


def _write_atomically(path: Path, text: str, kb: Knowledge) -> None:
    """Write a temporary file beside ``path``, read it back through the validator, then rename it
    over ``path``: a reader sees the old overlay or the new one, never a part or an invalid one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the mode of the file it replaces (a new one: readable by the service user too, it holds no secret)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        _, problems = read_overlay(tmp, kb)
        if problems:
            raise KnowledgeError(problems)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
