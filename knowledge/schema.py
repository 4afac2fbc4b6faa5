"""Schema of the knowledge files (pydantic models; unknown keys are errors)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Id = str
ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class Strict(BaseModel):
    """A record that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Plain(Strict):
    """A short plain line in each interface language. It may rephrase a quoted rule or say
    what the documents leave open; it never adds a fact. Chinese names, annotations and
    numbers it mentions are copied verbatim (the validator checks annotations)."""

    zh: str = Field(min_length=1, max_length=200)
    ru: str = Field(min_length=1, max_length=300)
    en: str = Field(min_length=1, max_length=300)


class Sourced(Strict):
    """A record that cites its source document."""

    source: str = Field(min_length=1)


class Record(Sourced):
    """A sourced record with an id."""

    verified_on: dt.date


class Source(Strict):
    """A source document: its file, region, date verified and the businesses it covers."""

    file: str
    title: str
    issuer: str | None = None
    region: Literal["manzhouli", "jiangsu"]
    verified_on: dt.date
    # the businesses the document speaks for (empty: every business); a document is never
    # offered as rules for a business it does not cover
    covers: list[Id] = Field(default_factory=list)


class Annotation(Record):
    """A handwritten annotation, verbatim."""

    id: Id = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1, max_length=256)
    written_on: str


class Office(Record):
    """An office: name, city, address and phones as the document writes them."""

    id: Id = Field(pattern=ID_PATTERN)
    kind: Literal["card_center", "ccb_agent"]
    name: str
    city: str
    address: str
    phones_as_written: str
    phones: list[str] = Field(min_length=1)

    @field_validator("phones")
    @classmethod
    def _dialable(cls, phones: list[str]) -> list[str]:
        for p in phones:
            digits = p.replace("-", "")
            if not digits.isdigit() or not 7 <= len(digits) <= 12:
                raise ValueError(f"{p!r} is not a dialable phone number (digits and '-' only)")
        return phones


class Rule(Sourced):
    """One rule sentence of a document, verbatim."""

    id: Id = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)
    region: Literal["manzhouli", "jiangsu"] | None = None


class Check(Sourced):
    """One thing to check on a material (a seal, an annotation, a signature), with its plain lines."""

    id: Id = Field(pattern=ID_PATTERN)
    label: str = Field(min_length=1)
    plain: Plain  # the action as the answer screen and the checklist show it
    annotation: Id | None = None
    optional: bool = False


class Ruleset(Strict):
    """The rules and checks that apply to a kind of copy."""

    id: Id = Field(pattern=ID_PATTERN)
    rules: list[Rule] = Field(min_length=1)
    checks: list[Check] = Field(default_factory=list)


class Material(Record):
    """A material an applicant brings."""

    id: Id = Field(pattern=ID_PATTERN)
    name: str
    listed_as: str
    form: Literal["original", "copy", "item", "conditional"]
    short: str = Field(min_length=1, max_length=12)  # UI label for checklist buttons, not a quote
    plain: Plain  # what the applicant calls it, for the answer screen (not a quote)
    template: str | None = None
    rulesets: list[Id] = Field(default_factory=list)
    notes: list[Plain] = Field(default_factory=list)  # what the documents leave open about it


class Category(Record):
    """A group of businesses on the main menu."""

    id: Id = Field(pattern=ID_PATTERN)
    name: str
    summary: str


class MaterialRef(Strict):
    """A material as one business lists it (with that business's notes)."""

    material: Id
    listed_as: str | None = None
    note: str | None = None
    form: Literal["original", "copy"] | None = None  # overrides the material's form for this business
    alternative: str | None = None  # verbatim: what may be handed in instead (e.g. 相关情况说明)
    notes: list[Plain] = Field(default_factory=list)
    # what applies to this material in this business, said plainly, instead of "带上" and the
    # material's general notes (e.g. a card that is lost cannot be brought)
    action: Plain | None = None
    optional: bool = False  # may not apply in this business: the checklist offers 不适用


class Business(Record):
    """One card business: its category, materials, facts and notes."""

    id: Id = Field(pattern=ID_PATTERN)
    category: Id
    name: str
    audience: Literal["org", "holder"]
    materials_line: str
    materials: list[MaterialRef] = Field(min_length=1)
    methods: list[Literal["onsite", "online"]] = Field(min_length=1)
    facts: list[Id] = Field(default_factory=list)
    notes: list[Plain] = Field(default_factory=list)  # what the documents leave open, said plainly


class Fact(Record):
    """A fact quoted from a document (an address, a limit, a deadline)."""

    id: Id = Field(pattern=ID_PATTERN)
    kind: Literal["rule", "method", "phone", "limit", "status", "deadline"]
    title: str
    text: str
    more: list[str] = Field(default_factory=list)
    office: Id | None = None
    values: dict[str, int | str | list[str] | list[int]] = Field(default_factory=dict)
    region: Literal["manzhouli", "jiangsu"] | None = None


class VocabularyEntry(Strict):
    """Words people use for a target; not a fact, so it carries no source."""

    target: str = Field(pattern=r"^(topic|category|material|fact|answer|city|online|screen):[a-z0-9_\u4e00-\u9fff]+$")
    terms: list[str] = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0, le=5)


class Quote(Strict):
    """A verbatim quote: file, line and text."""

    text: str = Field(min_length=1)
    source: str | None = None  # defaults to the step's source
    region: Literal["manzhouli", "jiangsu"] | None = None


class WalkStep(Sourced):
    """One step of the online walkthrough."""

    id: Id = Field(pattern=ID_PATTERN)
    title: str  # UI label, not a quote
    quotes: list[Quote] = Field(default_factory=list)
    facts: list[Id] = Field(default_factory=list)
    notes: list[Plain] = Field(default_factory=list)
    applies_to: list[Id] = Field(default_factory=list)  # businesses this step applies to; empty: every one


class Synonyms(Strict):
    """Words that mean the same to an applicant (企业/单位/公司 …), in any language.

    The matcher reads every variant as the group's concept. Vocabulary, not a fact."""

    id: Id = Field(pattern=ID_PATTERN)
    words: list[str] = Field(min_length=2)
    weight: int = Field(default=1, ge=1, le=3)  # a question naming it counts this many times (places)
    off_topic: bool = False  # words the guide has nothing about (签证, visa): such a question gets no guess


ROUTE_PATTERN = r"^[a-z_]{1,20}(:[a-z0-9_\u4e00-\u9fff{}]{1,40})?$"


class Aspect(Strict):
    """What a question asks about, whatever the business: the seal, the annotation wording, the
    ID documents, the phone, a silent topic (fees, hours …). Vocabulary, not a fact: it names
    the answers (routes) that serve it, which carry the quotes.

    ``words``: any of them in a question names the aspect (any language; Chinese words are
    matched inside the text, Russian and English words by their stems). ``when``: an aspect
    present when every aspect listed is, replacing them (公章 + 彩色 → a printed seal).
    ``routes``: the answers that serve it, the first one by default; ``show_all``: every one of
    them answers (a rule and its Jiangsu counterpart). ``per_business``: the route for one
    business; ``for_business``: a route template for any business ("topic:{business}");
    ``needs_business``: without a business the reader asks which one, never guesses. ``unsure``:
    the answers shown together when the question names no ``document`` (签注写什么: the wording on
    the licence copy and on the ID copies). ``asks_who``: the answer differs for the company and
    for a holder acting personally (the seal, the wording, who signs): when the question names no
    business, person, company document or sign of either, the reader asks which business. An aspect with nothing that answers it is a cue: it
    counts inside another aspect's ``when``, names a document, or keeps its words from being read
    as something else (重新办 is not 新办)."""

    id: Id = Field(pattern=ID_PATTERN)
    words: list[str] = Field(default_factory=list)
    when: list[Id] = Field(default_factory=list)
    routes: list[str] = Field(default_factory=list)
    show_all: bool = False
    per_business: dict[Id, str] = Field(default_factory=dict)
    for_business: str | None = Field(default=None, pattern=ROUTE_PATTERN)
    needs_business: bool = False
    asks_who: bool = False  # the company's answer or the holder's own: asked back when nothing tells whose
    weak: bool = False  # answered only when nothing more specific is asked (a business or another aspect wins)
    told: bool = False  # asked by telling it (当初用护照办的卡 …): kept when named only in the story before the question
    document: bool = False  # names a document (营业执照, 身份证 …): an aspect's answer for it can be chosen
    unsure: list[str] = Field(default_factory=list)  # shown together when the question names no document

    @property
    def asks_business(self) -> bool:
        """Whether the reader may ask back which business (the ``ask_business`` screen): it needs one, or its
        answer differs for the company and a holder."""
        return self.needs_business or self.asks_who

    @field_validator("routes", "unsure")
    @classmethod
    def _routes(cls, routes: list[str]) -> list[str]:
        import re

        for r in routes:
            if not re.match(ROUTE_PATTERN, r):
                raise ValueError(f"{r!r} is not a route")
        return routes


class Localised(Strict):
    """A text in Chinese, Russian and English."""

    zh: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)


class QuestionForms(Strict):
    """The ways users ask a question, per language."""

    zh: list[str] = Field(min_length=2)
    ru: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)


class LineQuote(Strict):
    """A verbatim quote and where it is: the seed file and the line it is on."""

    file: str
    line: int = Field(ge=1)
    text: str = Field(min_length=1)


class Answer(Strict):
    """One answerable fact: a rule clause (quoted) or something the documents do not say (silent)."""

    id: Id = Field(pattern=ID_PATTERN)
    title: Localised
    plain: Localised  # one line; may rephrase the quote, adds no fact
    quotes: list[LineQuote] = Field(default_factory=list)
    silent: bool = False
    region: Literal["manzhouli", "jiangsu"]
    businesses: list[Id] = Field(default_factory=list)
    see: str = Field(pattern=r"^[a-z_]{1,20}(:[a-z0-9_]{1,40})?$")
    # a Jiangsu fact: the Manzhouli answer on the same point, shown with it (None: the Manzhouli
    # document says nothing on it, and the answer says so)
    manzhouli: Id | None = None
    questions: QuestionForms
    verified_on: dt.date

    @field_validator("plain")
    @classmethod
    def _one_line(cls, plain: Localised) -> Localised:
        for lang in ("zh", "ru", "en"):
            if "\n" in getattr(plain, lang).strip():
                raise ValueError(f"the plain answer ({lang}) must be one line")
        return plain


class TermNote(Strict):
    """A glossary note on a term."""

    ru: str = Field(min_length=1, max_length=400)
    en: str = Field(min_length=1, max_length=400)


class TermPatterns(Strict):
    """Regular expressions (case-insensitive) per interface language."""

    ru: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    @field_validator("ru", "en")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        import re

        for p in patterns:
            try:
                re.compile(p, re.I)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {p!r} ({exc})") from exc
        return patterns


class GlossaryTerm(Sourced):
    """One official Chinese term and the one way Russian and English say it.

    `avoid`: the variants the glossary rejects (a test looks for them in the message
    catalogues, the knowledge and every rendered screen). `with_chinese`: how the
    rendering is spotted in a plain line of the knowledge; such a line must also carry the
    Chinese term, which applicants need to recognise at the counter."""

    id: Id = Field(pattern=ID_PATTERN)
    zh: str = Field(min_length=1)  # verbatim in `source`
    ru: str = Field(min_length=1)
    en: str = Field(min_length=1)
    note: TermNote
    avoid: TermPatterns = Field(default_factory=TermPatterns)
    with_chinese: TermPatterns = Field(default_factory=TermPatterns)

    @model_validator(mode="after")
    def _canonical_is_not_avoided(self) -> "GlossaryTerm":
        import re

        for lang in ("ru", "en"):
            for p in getattr(self.avoid, lang):
                if re.search(p, getattr(self, lang), re.I):
                    raise ValueError(f"the {lang} rendering {getattr(self, lang)!r} matches its own avoided variant {p!r}")
        return self


# file name -> (top-level key, model)
FILES: dict[str, list[tuple[str, type[BaseModel]]]] = {
    "sources.yaml": [("sources", Source)],
    "annotations.yaml": [("annotations", Annotation)],
    "offices.yaml": [("offices", Office)],
    "materials.yaml": [("rulesets", Ruleset), ("materials", Material)],
    "businesses.yaml": [("categories", Category), ("businesses", Business)],
    "facts.yaml": [("facts", Fact)],
    "vocabulary.yaml": [("vocabulary", VocabularyEntry), ("synonyms", Synonyms), ("aspects", Aspect)],
    "answers.yaml": [("answers", Answer)],
    "walkthrough.yaml": [("steps", WalkStep)],
    "glossary.yaml": [("terms", GlossaryTerm)],
}
