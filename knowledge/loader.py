"""Load and validate the knowledge files.

Every problem is reported as ``file:line: key.path: message``. Beyond the schema, the
validator checks cross references (a business names an existing material, …), unique
ids, and that every quoted field is found character for character in the seed document
named by the record's ``source``.
"""

from __future__ import annotations

import os
import pickle
import re
import stat
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml
from pydantic import BaseModel, ValidationError

from . import schema
from .route import Route, parse_or_none

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = PACKAGE_DIR / "data"
DEFAULT_SOURCES_DIR = PACKAGE_DIR / "sources"
ENV_VAR = "EPORT_GUIDE_KNOWLEDGE"


@dataclass(frozen=True)
class Problem:
    """One problem of the knowledge files: where (file, line, path) and what."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '(file)'}: {self.message}"


class KnowledgeError(Exception):
    """Invalid knowledge: every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a business's checklist, derived from the knowledge."""

    id: str  # "<material id>.<check id>", stable across knowledge edits
    material: str
    label: str  # verbatim from the source
    short: str  # the material's short UI name, for buttons
    optional: bool = False
    annotation: str | None = None  # the annotation text, verbatim
    plain: schema.Plain | None = None  # the action in each language (None: show the label)
    condition: str | None = None  # "alternative": only if the copy is handed in, not the alternative

    def text(self, lang: str) -> str:
        """What the checklist shows in ``lang``."""
        return getattr(self.plain, lang) if self.plain else self.label


BRACKETS = {"（": "）", "(": ")", "“": "”", "《": "》", "「": "」", "«": "»", "【": "】", "［": "］"}


def unbalanced(text: str) -> str | None:
    """The first bracket left open or closed without an opener, if any."""
    closers = {v: k for k, v in BRACKETS.items()}
    stack: list[str] = []
    for ch in text:
        if ch in BRACKETS:
            stack.append(ch)
        elif ch in closers:
            if not stack or stack[-1] != closers[ch]:
                return ch
            stack.pop()
    return stack[-1] if stack else None


class Knowledge:
    """The validated facts, indexed by id. Immutable once built."""

    def __init__(self, data: dict[str, list[BaseModel]], directory: Path):
        self.directory = directory
        self.data = data  # the validated records by section (knowledge.overlay rebuilds from them)
        # question forms taught by staff (knowledge.overlay), the overlay file they came from, and
        # the knowledge without them
        self.taught: tuple = ()
        self.overlay: Path | None = None
        self.base: Knowledge = self
        self.sources = {s.file: s for s in data["sources"]}
        self.annotations = {a.id: a for a in data["annotations"]}
        self.offices = {o.id: o for o in data["offices"]}
        self.rulesets = {r.id: r for r in data["rulesets"]}
        self.materials = {m.id: m for m in data["materials"]}
        self.categories = {c.id: c for c in data["categories"]}
        self.businesses = {b.id: b for b in data["businesses"]}
        self.facts = {f.id: f for f in data["facts"]}
        self.vocabulary = list(data["vocabulary"])
        self.synonyms = list(data["synonyms"])
        self.aspects = {a.id: a for a in data["aspects"]}
        self.answers = {a.id: a for a in data["answers"]}
        self.steps = list(data["steps"])
        self.glossary = {t.id: t for t in data.get("terms", [])}
        self.cities: dict[str, list[schema.Office]] = {}
        for office in self.offices.values():
            self.cities.setdefault(office.city, []).append(office)
        self._items: dict[str, tuple[ChecklistItem, ...]] = {}

    # -- derived views -------------------------------------------------------------
    def topics_in(self, category: str) -> list[schema.Business]:
        """The businesses of a category, in order."""
        return [b for b in self.businesses.values() if b.category == category]

    def covers(self, file: str, topic: str) -> bool:
        """Whether the document ``file`` speaks for the business ``topic`` (its ``covers``)."""
        covered = self.sources[file].covers
        return not covered or topic in covered

    def jiangsu_covers(self, topic: str) -> bool:
        """Whether the Jiangsu guide is about this business at all (it covers new business only)."""
        return any(s.region == "jiangsu" and self.covers(s.file, topic) for s in self.sources.values())

    def rules_of(self, material_id: str) -> list[schema.Rule]:
        """The rules of a material (its rulesets')."""
        m = self.materials[material_id]
        return [rule for rs in m.rulesets for rule in self.rulesets[rs].rules]

    def checklist_items(self, topic: str) -> tuple[ChecklistItem, ...]:
        """Checklist items for a business, derived from its materials' checks."""
        if topic not in self._items:
            items: list[ChecklistItem] = []
            for ref in self.businesses[topic].materials:
                m = self.materials[ref.material]
                checks = [c for rs in m.rulesets for c in self.rulesets[rs].checks]
                if not checks or m.form in ("original", "item") or ref.alternative:
                    items.append(
                        ChecklistItem(
                            id=f"{m.id}.have",
                            material=m.id,
                            short=m.short,
                            label=ref.listed_as or m.listed_as,
                            optional=m.form == "conditional" or "如有" in m.listed_as or ref.optional,
                        )
                    )
                for c in checks:
                    ann = self.annotations[c.annotation].text if c.annotation else None
                    items.append(
                        ChecklistItem(
                            id=f"{m.id}.{c.id}",
                            material=m.id,
                            short=m.short,
                            label=c.label,
                            # with an alternative (相关情况说明) the copy's requirements apply
                            # only when the copy is what is handed in
                            optional=c.optional or bool(ref.alternative) or ref.optional,
                            annotation=ann,
                            plain=c.plain,
                            condition="alternative" if ref.alternative else None,
                        )
                    )
            self._items[topic] = tuple(items)
        return self._items[topic]

    def records(self) -> Iterable[tuple[str, BaseModel]]:
        """Every dated record, for staleness reports: (kind, record)."""
        for kind, table in (
            ("annotation", self.annotations),
            ("office", self.offices),
            ("material", self.materials),
            ("category", self.categories),
            ("business", self.businesses),
            ("fact", self.facts),
        ):
            for rec in table.values():
                yield kind, rec

    def source_label(self, file: str) -> str:
        """How a source document is named on screen."""
        s = self.sources[file]
        return f"{s.issuer}《{s.title}》" if s.issuer else f"《{s.title}》"


# -- YAML with line numbers ------------------------------------------------------------
def _line_index(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out.setdefault(path + (k,), key.start_mark.line + 1)
            _line_index(value, path + (k,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, path + (i,), out)
    return out


def _line_for(lines: dict[tuple, int], path: tuple) -> int | None:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)


def _fmt(path: Iterable) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


MAX_FILE_BYTES = 5_000_000  # a knowledge file is a few dozen kB
MAX_NODES = 200_000  # nodes in one file
# All knowledge files together (the size the free-text matcher indexes): today's are ~180 kB. Aliases
# are refused, so this is also the size of the data once loaded: the matcher's build stays bounded.
MAX_TOTAL_BYTES = 4_000_000


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases (``*name``): knowledge files need none, and an alias repeats its anchor's
    value without costing bytes (a 2 MB string aliased 150,000 times is 300 GB once expanded)."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise AliasRefused(event.anchor, event.start_mark.line + 1)
        return super().compose_node(parent, index)


class AliasRefused(Exception):
    """A YAML alias in a knowledge file (refused: every fact is written out)."""

    def __init__(self, anchor: str, line: int):
        self.anchor, self.line = anchor, line
        super().__init__(f"*{anchor}")


def _yaml_problems(root: yaml.Node, name: str) -> list[Problem]:
    """Before constructing: aliases must not expand beyond MAX_NODES, and no mapping may repeat a key.
    Each node is visited once (aliases share nodes), so the check itself cannot explode."""
    problems: list[Problem] = []
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, path: tuple) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = MAX_NODES + 1  # a node that contains itself never finishes expanding
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    line = k.start_mark.line + 1
                    if k.value in seen:
                        problems.append(
                            Problem(
                                name, line, _fmt(path + (k.value,)), f"duplicate key {k.value!r} (first at line {seen[k.value]})"
                            )
                        )
                    else:
                        seen[k.value] = line
                total += size(k, path) + size(v, path + (getattr(k, "value", "?"),))
                if total > MAX_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                total += size(item, path + (i,))
                if total > MAX_NODES:
                    break
        sizes[key] = min(total, MAX_NODES + 1)
        return sizes[key]

    if size(root, ()) > MAX_NODES:
        problems.append(
            Problem(
                name,
                root.start_mark.line + 1,
                "",
                f"aliases expand to more than {MAX_NODES} values (an alias bomb?); write the data out instead",
            )
        )
    return problems


def _read_yaml(file: Path) -> tuple[Any, dict[tuple, int], list[Problem]]:
    """Parse one knowledge file safely: a regular file of bounded size, aliases bounded, keys unique."""
    name = file.name
    try:
        info = file.stat()  # follows a symlink: what counts is what it points to
        if not stat.S_ISREG(info.st_mode):
            return None, {}, [Problem(name, None, "", "not a regular file (a device, directory or pipe?); refusing to read it")]
        if info.st_size > MAX_FILE_BYTES:
            return (
                None,
                {},
                [Problem(name, None, "", f"file is {info.st_size} bytes; a knowledge file may have at most {MAX_FILE_BYTES}")],
            )
        with file.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            return None, {}, [Problem(name, None, "", f"file is over {MAX_FILE_BYTES} bytes")]
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [Problem(name, None, "", f"cannot read file: {exc}")]
    key = (name, text)
    if key in _PARSED:
        _PARSED.move_to_end(key)
        return pickle.loads(_PARSED[key])  # each load gets its own data: a load may change what it reads
    if len(_PARSED) >= PARSED_MAX:
        _PARSED.popitem(last=False)  # the least recently read text
    parsed = _parse_yaml(name, text)
    _PARSED[key] = pickle.dumps(parsed, pickle.HIGHEST_PROTOCOL)  # kept apart from the copy returned
    return parsed


# A file whose name and text were parsed before is not parsed again (a /reload where one file changed parses
# that file; so does a test that breaks one file of a copy). Keyed by the text itself, so a changed file is
# always parsed anew. The memo holds each parse pickled: unpickling is a fraction of parsing or deep-copying.
PARSED_MAX = 64
_PARSED: OrderedDict[tuple[str, str], bytes] = OrderedDict()

# libyaml (PyYAML's C parser), where PyYAML was built with it: a file is parsed several times faster than in Python
_CLoader = getattr(yaml, "CSafeLoader", None)


def _parse_yaml(name: str, text: str) -> tuple[Any, dict[tuple, int], list[Problem]]:
    """Parse one knowledge file's text: aliases bounded, keys unique; (data, lines, problems).

    Parsed in C when libyaml is there; a text that uses an alias, is not valid YAML or is spelled in a way
    only libyaml reads is parsed again in Python, whose messages (the alias's name and line, the syntax
    error) are the ones reported."""
    if _CLoader is not None:
        parsed = _parse_yaml_fast(name, text)
        if parsed is not None:
            return parsed
    return _parse_yaml_python(name, text)


def _parse_yaml_fast(name: str, text: str) -> tuple[Any, dict[tuple, int], list[Problem]] | None:
    """``_parse_yaml`` with libyaml; None when the Python parser must read the text instead: one that is not
    valid YAML or uses an alias (its messages are the ones reported), or one of the spellings libyaml accepts
    and PyYAML's own parser refuses (a tab as a space, a byte-order mark inside, ``?`` in a plain scalar of a
    ``[…]`` or ``{…}`` list), so that what is accepted does not depend on libyaml."""
    if "\t" in text or "\ufeff" in text[1:]:
        return None
    try:
        loader = _CLoader(text)
    except (yaml.YAMLError, UnicodeError):
        return None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        if _python_reads_otherwise(node):
            return None
        problems = _yaml_problems(node, name)
        if problems:
            return None, {}, problems
        data = loader.construct_document(node)
    except (yaml.YAMLError, RecursionError, UnicodeError):
        return None
    finally:
        loader.dispose()
    return data, _line_index(node), []


def _python_reads_otherwise(root: yaml.Node) -> bool:
    """Whether a node is reached twice (what a composed alias is), or a plain scalar inside a flow collection
    holds a ``?`` (where PyYAML's parser ends the scalar); stops at the first one found."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, in_flow = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if in_flow and not node.style and "?" in node.value:  # plain: style None (libyaml: "")
                return True
        elif isinstance(node, yaml.MappingNode):
            flow = in_flow or bool(node.flow_style)
            for key, value in node.value:
                stack += ((key, flow), (value, flow))
        elif isinstance(node, yaml.SequenceNode):
            flow = in_flow or bool(node.flow_style)
            stack += ((item, flow) for item in node.value)
    return False


def _parse_yaml_python(name: str, text: str) -> tuple[Any, dict[tuple, int], list[Problem]]:
    """``_parse_yaml`` in pure Python: stops at the first alias, naming it."""
    try:
        loader = _NoAliasLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character (the reader checks the whole text first)
        line = text.count("\n", 0, exc.position) + 1
        return None, {}, [Problem(name, line, "", f"YAML syntax error: character #x{exc.character:04x} is not allowed")]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        problems = _yaml_problems(node, name)
        if problems:
            return None, {}, problems
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        msg = getattr(exc, "problem", None) or str(exc)
        return None, {}, [Problem(name, line, "", f"YAML syntax error: {msg}")]
    except AliasRefused as exc:
        return (
            None,
            {},
            [
                Problem(
                    name,
                    exc.line,
                    "",
                    f"YAML alias *{exc.anchor}: knowledge files may not use aliases "
                    "(*name, << merge keys; an alias bomb costs no bytes); write the data out in full",
                )
            ],
        )
    except RecursionError:
        return None, {}, [Problem(name, None, "", "nested too deeply")]
    finally:
        loader.dispose()
    return data, _line_index(node), []


# -- validation ---------------------------------------------------------------------------
QUOTED_FIELDS = {
    "sources": ("title", "issuer"),
    "annotations": ("text", "written_on"),
    "offices": ("name", "address", "phones_as_written", "city"),
    "materials": ("name", "listed_as", "template"),
    "categories": ("name", "summary"),
    "businesses": ("name", "materials_line"),
    "facts": ("text", "more"),
    "terms": ("zh",),
}


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _expand_phones(as_written: str) -> list[str]:
    """ "0470-2299089、2299090" -> ["0470-2299089", "0470-2299090"]."""
    phones: list[str] = []
    area = ""
    for part in re.split(r"[、,，/;；\s]+", as_written.strip()):
        if not part:
            continue
        if "-" in part:
            area = part.split("-", 1)[0]
            phones.append(part)
        elif len(part) == 11 and part.startswith("1"):
            phones.append(part)  # mobile number, no area code
        else:
            phones.append(f"{area}-{part}" if area else part)
    return phones


def resolve_directory(directory: str | os.PathLike | None = None) -> Path:
    """The knowledge directory: ``directory``, else EPORT_GUIDE_KNOWLEDGE, else the packaged data."""
    if directory is None:
        directory = os.environ.get(ENV_VAR) or DEFAULT_DATA_DIR
    return Path(directory).expanduser().resolve()


def load_knowledge(directory: str | os.PathLike | None = None) -> Knowledge:
    """Load and validate; raise KnowledgeError listing every problem found."""
    directory = resolve_directory(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), None, "", "knowledge directory does not exist")])
    data: dict[str, list[BaseModel]] = {}
    line_maps: dict[str, dict[tuple, int]] = {}
    total = 0
    for fname, sections in schema.FILES.items():
        path = directory / fname
        if path.exists() and path.is_file():
            total += path.stat().st_size
            if total > MAX_TOTAL_BYTES:
                raise KnowledgeError(
                    [
                        Problem(
                            fname,
                            None,
                            "",
                            f"the knowledge files together are over {MAX_TOTAL_BYTES} bytes "
                            "(today's are about 200 kB); refusing to load them",
                        )
                    ]
                )
        if not path.exists():
            problems.append(Problem(fname, None, "", "required knowledge file is missing"))
            for key, _ in sections:
                data[key] = []
            continue
        raw, lines, errs = _read_yaml(path)
        line_maps[fname] = lines
        problems += errs
        if errs:
            for key, _ in sections:
                data[key] = []
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(fname, 1, "", "expected a mapping at the top of the file"))
            raw = {}
        expected = {k for k, _ in sections}
        for extra in sorted(set(raw) - expected):
            problems.append(
                Problem(
                    fname, _line_for(lines, (extra,)), extra, f"unknown top-level key (expected {', '.join(sorted(expected))})"
                )
            )
        for key, model in sections:
            items = raw.get(key)
            data[key] = []
            if not isinstance(items, list):
                problems.append(Problem(fname, _line_for(lines, (key,)), key, "missing or not a list"))
                continue
            for i, item in enumerate(items):
                try:
                    rec = model.model_validate(item)
                except ValidationError as exc:
                    for err in exc.errors():
                        loc = (key, i, *err["loc"])
                        problems.append(Problem(fname, _line_for(lines, loc), _fmt(loc), err["msg"]))
                    continue
                data[key].append(rec)
    problems += _cross_check(data, line_maps, directory)
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(data, directory)


def _locate(line_maps, file_of, key, index, *rest) -> tuple[str, int | None, str]:
    fname = file_of[key]
    loc = (key, index, *rest)
    return fname, _line_for(line_maps.get(fname, {}), loc), _fmt(loc)


Err = Callable[..., None]  # err(file key, record index, *path, msg=...): one problem, located in its file


def _unique_ids(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """Every record's id (a source's file) is unique in its file."""
    for key, items in data.items():
        seen: set[str] = set()
        for i, rec in enumerate(items):
            rid = getattr(rec, "id", None) or getattr(rec, "file", None)
            if rid is None:
                continue
            if rid in seen:
                err(key, i, "id", msg=f"duplicate id {rid!r}")
            seen.add(rid)


def _checks_name_their_annotations(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A check's id is unique in its ruleset; its annotation exists and its label contains the annotation's text."""
    annotation_ids = ids.get("annotations", set())
    for i, rs in enumerate(data.get("rulesets", [])):
        check_ids = [c.id for c in rs.checks]
        for j, c in enumerate(rs.checks):
            if check_ids.count(c.id) > 1:
                err("rulesets", i, "checks", j, "id", msg=f"duplicate check id {c.id!r}")
            if c.annotation and c.annotation not in annotation_ids:
                err("rulesets", i, "checks", j, "annotation", msg=f"unknown annotation {c.annotation!r}")
            if c.annotation and c.annotation in annotation_ids:
                text = next(a.text for a in data["annotations"] if a.id == c.annotation)
                if text not in c.label:
                    err("rulesets", i, "checks", j, "label", msg=f"label must contain the annotation text {text!r}")


def _checks_are_balanced(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A check's label and plain lines close every bracket and quote, and the plain lines carry the annotation verbatim."""
    for i, rs in enumerate(data.get("rulesets", [])):
        for j, c in enumerate(rs.checks):
            if b := unbalanced(c.label):
                err("rulesets", i, "checks", j, "label", msg=f"label has an unbalanced {b!r}: quote up to the closing bracket")
            ann = next((a.text for a in data.get("annotations", []) if a.id == c.annotation), None)
            for lang in ("zh", "ru", "en"):
                line = getattr(c.plain, lang)
                if b := unbalanced(line):
                    err("rulesets", i, "checks", j, "plain", lang, msg=f"unbalanced {b!r}")
                if ann and ann not in line:
                    err("rulesets", i, "checks", j, "plain", lang, msg=f"must contain the annotation verbatim: {ann!r}")


def _plain_lines_are_balanced(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """The plain lines of materials and businesses (notes, actions) close every bracket and quote."""
    for key in ("materials", "businesses"):
        for i, rec in enumerate(data.get(key, [])):
            plains = [("plain", rec.plain)] if getattr(rec, "plain", None) else []
            plains += [(("notes", k), n) for k, n in enumerate(rec.notes)]
            for j, ref in enumerate(getattr(rec, "materials", [])):
                plains += [(("materials", j, "notes", k), n) for k, n in enumerate(ref.notes)]
                plains += [(("materials", j, "action"), ref.action)] if ref.action else []
            for where, p in plains:
                for lang in ("zh", "ru", "en"):
                    if b := unbalanced(getattr(p, lang)):
                        err(key, i, *(where if isinstance(where, tuple) else (where,)), lang, msg=f"unbalanced {b!r}")


def _materials_name_rulesets(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A material's rulesets exist."""
    for i, m in enumerate(data.get("materials", [])):
        for j, rs in enumerate(m.rulesets):
            if rs not in ids.get("rulesets", set()):
                err("materials", i, "rulesets", j, msg=f"unknown ruleset {rs!r}")


def _businesses_name_records(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A business's category, materials and facts exist."""
    for i, b in enumerate(data.get("businesses", [])):
        if b.category not in ids.get("categories", set()):
            err("businesses", i, "category", msg=f"unknown category {b.category!r}")
        for j, ref in enumerate(b.materials):
            if ref.material not in ids.get("materials", set()):
                err("businesses", i, "materials", j, "material", msg=f"unknown material {ref.material!r}")
        for j, f in enumerate(b.facts):
            if f not in ids.get("facts", set()):
                err("businesses", i, "facts", j, msg=f"unknown fact {f!r}")


def _facts_quote_their_values(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A fact's office exists and each of its values appears in its quoted text."""
    for i, f in enumerate(data.get("facts", [])):
        if f.office and f.office not in ids.get("offices", set()):
            err("facts", i, "office", msg=f"unknown office {f.office!r}")
        whole = " ".join([f.text, *f.more])
        for k, v in f.values.items():
            for item in v if isinstance(v, list) else [v]:
                if str(item) not in whole:
                    err("facts", i, "values", k, msg=f"value {item!r} does not appear in the quoted text")


def _office_phones_as_written(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """An office's phones are the numbers its phones_as_written spells."""
    for i, o in enumerate(data.get("offices", [])):
        if _expand_phones(o.phones_as_written) != o.phones:
            err(
                "offices",
                i,
                "phones",
                msg=f"phones {o.phones} do not match phones_as_written {o.phones_as_written!r} (expected {_expand_phones(o.phones_as_written)})",
            )


def _sources_cover_businesses(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A source covers existing businesses."""
    for i, src in enumerate(data.get("sources", [])):
        for j, b in enumerate(src.covers):
            if b not in ids.get("businesses", set()):
                err("sources", i, "covers", j, msg=f"unknown business {b!r}")


def _steps_name_records(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A walkthrough step has quotes or facts, and names existing facts and businesses."""
    for i, step in enumerate(data.get("steps", [])):
        if not step.quotes and not step.facts:
            err("steps", i, msg="a step needs quotes or facts")
        for j, f in enumerate(step.facts):
            if f not in ids.get("facts", set()):
                err("steps", i, "facts", j, msg=f"unknown fact {f!r}")
        for j, b in enumerate(step.applies_to):
            if b not in ids.get("businesses", set()):
                err("steps", i, "applies_to", j, msg=f"unknown business {b!r}")


def _vocabulary_targets_exist(
    data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err, targets: dict[str, set[str]]
) -> None:
    """A vocabulary entry's target names something in the knowledge."""
    for i, v in enumerate(data.get("vocabulary", [])):
        target = parse_or_none(v.target)
        if target is None or target.arg not in targets.get(target.screen, set()):
            err("vocabulary", i, "target", msg=f"unknown target {v.target!r}")


def _synonyms_are_unique(data: dict[str, list[BaseModel]], ids: dict[str, set], err: Err) -> None:
    """A word is a synonym in one group only."""
    seen_words: dict[str, str] = {}
    for i, group in enumerate(data.get("synonyms", [])):
        for j, word in enumerate(group.words):
            key = _normalise(word).lower()
            if key in seen_words and seen_words[key] != group.id:
                err("synonyms", i, "words", j, msg=f"{word!r} is already a synonym in group {seen_words[key]!r}")
            seen_words[key] = group.id


def _targets(data: dict[str, list[BaseModel]], ids: dict[str, set]) -> dict[str, set[str]]:
    """What each kind of reference (``topic:``, ``city:``, ``online:``, ``screen:`` …) may name."""
    cities = {o.city for o in data.get("offices", [])}
    targets = {
        "topic": ids.get("businesses", set()),
        "category": ids.get("categories", set()),
        "material": ids.get("materials", set()),
        "fact": ids.get("facts", set()),
        "answer": ids.get("answers", set()),
        "city": cities,
        "online": {s.id for s in data.get("steps", [])} | {"start"},
        "screen": {"offices", "online", "main", "help"},
    }
    return targets


# The cross-file rules, one function each, in the order their problems are reported.
RULES = (
    _unique_ids,
    _checks_name_their_annotations,
    _checks_are_balanced,
    _plain_lines_are_balanced,
    _materials_name_rulesets,
    _businesses_name_records,
    _facts_quote_their_values,
    _office_phones_as_written,
    _sources_cover_businesses,
    _steps_name_records,
)


def _cross_check(data: dict[str, list[BaseModel]], line_maps, directory: Path) -> list[Problem]:
    """Every rule across the files (ids, references, quotes, answers, vocabulary); the problems found."""
    problems: list[Problem] = []
    file_of = {key: f for f, secs in schema.FILES.items() for key, _ in secs}

    def err(key, index, *rest, msg):
        f, line, path = _locate(line_maps, file_of, key, index, *rest)
        problems.append(Problem(f, line, path, msg))

    ids = {key: {getattr(r, "id", None) for r in items} for key, items in data.items()}
    for rule in RULES:
        rule(data, ids, err)
    problems += _check_answers(data, line_maps, file_of, directory, ids)
    targets = _targets(data, ids)
    _vocabulary_targets_exist(data, ids, err, targets)
    _synonyms_are_unique(data, ids, err)
    problems += _check_aspects(data, line_maps, file_of, targets, ids)
    problems += _check_quotes(data, line_maps, file_of, directory)
    return problems


def route_exists(route: str, targets: dict[str, set[str]], ids: dict[str, set]) -> bool:
    """Whether a route names something in the knowledge (an answer, a business, a city …)."""
    parsed = parse_or_none(route)
    if parsed is None:
        return False
    kind, name = parsed.screen, parsed.arg
    if name is None:
        return kind in {"offices", "online", "main", "help"}
    known = {**targets, "walk": targets.get("online", set()) - {"start"}}
    return name in known.get(kind, set())


def _check_aspects(data, line_maps, file_of, targets, ids) -> list[Problem]:
    """Aspects name existing routes, businesses and aspects; a word names one aspect only."""
    problems: list[Problem] = []

    def err(i, *rest, msg):
        f, line, path = _locate(line_maps, file_of, "aspects", i, *rest)
        problems.append(Problem(f, line, path, msg))

    aspects = data.get("aspects", [])
    aspect_ids = {a.id for a in aspects}
    businesses = ids.get("businesses", set())
    seen: dict[str, str] = {}
    for i, a in enumerate(aspects):
        if not a.words and not a.when:
            err(i, msg="an aspect needs words or `when` (the aspects it combines)")
        for j, w in enumerate(a.words):
            key = _normalise(w).lower()
            if key in seen and seen[key] != a.id:
                err(i, "words", j, msg=f"{w!r} already names the aspect {seen[key]!r}")
            seen[key] = a.id
        for j, other in enumerate(a.when):
            if other not in aspect_ids or other == a.id:
                err(i, "when", j, msg=f"unknown aspect {other!r}")
        for field in ("routes", "unsure"):
            for j, r in enumerate(getattr(a, field)):
                if not route_exists(r, targets, ids):
                    err(i, field, j, msg=f"unknown route {r!r}")
        for b, r in a.per_business.items():
            if b not in businesses:
                err(i, "per_business", b, msg=f"unknown business {b!r}")
            if not route_exists(r, targets, ids):
                err(i, "per_business", b, msg=f"unknown route {r!r}")
        if a.for_business:
            for b in sorted(businesses):
                if not route_exists(a.for_business.replace("{business}", b), targets, ids):
                    err(i, "for_business", msg=f"{a.for_business!r} names no route for the business {b!r}")
                    break
    return problems


def _sources_dir(directory: Path) -> Path:
    local = directory / "sources"
    if local.is_dir():
        return local
    sibling = directory.parent / "sources"
    return sibling if sibling.is_dir() else DEFAULT_SOURCES_DIR


def _check_quotes(data, line_maps, file_of, directory: Path) -> list[Problem]:
    """Every quoted field must appear verbatim in the record's source document."""
    problems: list[Problem] = []
    known = {s.file for s in data.get("sources", [])}
    sdir = _sources_dir(directory)
    texts: dict[str, str] = {}
    for file in known:
        try:
            texts[file] = _normalise((sdir / file).read_text(encoding="utf-8"))
        except OSError:
            problems.append(Problem("sources.yaml", None, file, f"source document not found in {sdir}"))

    def check(key, i, field_path, value, source):
        fname = file_of[key]
        loc = (key, i, *field_path)
        line = _line_for(line_maps.get(fname, {}), loc)
        if source not in known:
            problems.append(Problem(fname, line, _fmt((key, i, "source")), f"unknown source {source!r} (not in sources.yaml)"))
            return
        if source in texts and _normalise(value) not in texts[source]:
            problems.append(Problem(fname, line, _fmt(loc), f"not found verbatim in {source}: {value!r}"))

    for key, fields in QUOTED_FIELDS.items():
        for i, rec in enumerate(data.get(key, [])):
            source = getattr(rec, "source", None) or getattr(rec, "file", None)
            for field in fields:
                value = getattr(rec, field, None)
                if value is None:
                    continue
                for j, v in enumerate(value) if isinstance(value, list) else [(None, value)]:
                    check(key, i, (field,) if j is None else (field, j), v, source)
    for i, rs in enumerate(data.get("rulesets", [])):
        for j, r in enumerate(rs.rules):
            check("rulesets", i, ("rules", j, "text"), r.text, r.source)
        for j, c in enumerate(rs.checks):
            check("rulesets", i, ("checks", j, "label"), c.label, c.source)
    for i, step in enumerate(data.get("steps", [])):
        for j, q in enumerate(step.quotes):
            check("steps", i, ("quotes", j, "text"), q.text, q.source or step.source)
    for i, b in enumerate(data.get("businesses", [])):
        for j, ref in enumerate(b.materials):
            for field in ("listed_as", "note", "alternative"):
                if getattr(ref, field):
                    check("businesses", i, ("materials", j, field), getattr(ref, field), b.source)
    return problems


# -- answers ----------------------------------------------------------------------------------
ANNOTATION_NEAR_MISS = 88  # rapidfuzz partial_ratio at or above which a text "uses" an annotation
QUOTE_MARKS = re.compile(r"[“「\"«]([^”」\"»]*[\u4e00-\u9fff][^”」\"»]*)[”」\"»]")


def _hotline_number(data) -> str | None:
    hotline = next((f for f in data.get("facts", []) if f.id == "hotline"), None)
    office = next((o for o in data.get("offices", []) if hotline and o.id == hotline.office), None)
    return office.phones[0] if office else None


def annotation_misuse(text: str, annotations: list[str]) -> list[str]:
    """Annotation wordings that ``text`` seems to use but does not copy character for character.

    Exact occurrences are masked first (one annotation may contain part of another's wording);
    whatever still looks like an annotation (rapidfuzz partial ratio) is a misquote."""
    from rapidfuzz import fuzz

    masked = text
    for a in sorted(annotations, key=len, reverse=True):
        masked = masked.replace(a, "\u2063" * 3)
    runs = re.findall(r"[\u4e00-\u9fff]{4,}", masked)
    return [a for a in annotations if any(fuzz.partial_ratio(a, run) >= ANNOTATION_NEAR_MISS for run in runs)]


@dataclass
class _Answers:
    """What the answer rules read: the knowledge, the documents' lines and the question forms seen."""

    data: dict[str, list[BaseModel]]
    ids: dict[str, set]
    sources: dict[str, Any]
    lines: dict[str, list[str]]
    whole: dict[str, str]
    hotline: str | None
    annotations: list[str]
    screens_with_arg: dict[str, set]
    forms: dict[str, str]


def _answer_cites_quotes(i: int, a: Any, c: "_Answers", err: Err) -> None:
    """A fact cites verbatim quotes (a silent one none), each on the line it names of a document of its region."""
    sources, lines = c.sources, c.lines
    if a.silent and a.quotes:
        err(i, "quotes", msg="a silent fact cites no quote (the documents do not say it)")
    if not a.silent and not a.quotes:
        err(i, "quotes", msg="a fact needs at least one verbatim quote (or silent: true)")
    for j, q in enumerate(a.quotes):
        if q.file not in sources:
            err(i, "quotes", j, "file", msg=f"unknown source {q.file!r} (not in sources.yaml)")
            continue
        if sources[q.file].region != a.region:
            err(i, "region", msg=f"region {a.region!r} but the quote is from the {sources[q.file].region} document {q.file}")
        if q.file not in lines:
            continue
        text = _normalise(q.text)
        if q.line > len(lines[q.file]):
            err(i, "quotes", j, "line", msg=f"{q.file} has only {len(lines[q.file])} lines")
        elif text not in lines[q.file][q.line - 1]:
            where = [n + 1 for n, ln in enumerate(lines[q.file]) if text in ln]
            hint = f" (it is on line {where[0]})" if where else f" and not found verbatim in {q.file}"
            err(i, "quotes", j, "text", msg=f"not on line {q.line} of {q.file}{hint}: {q.text!r}")


def _answer_plain_lines(i: int, a: Any, c: "_Answers", err: Err) -> None:
    """The plain lines: a silent fact gives the hotline; annotations exact; quoted Chinese found in the documents."""
    whole, hotline, annotations = c.whole, c.hotline, c.annotations
    for lang in ("zh", "ru", "en"):
        plain = getattr(a.plain, lang)
        if a.silent and hotline and hotline not in plain:
            err(i, "plain", lang, msg=f"a silent fact must give the hotline {hotline} (the documents do not say; call)")
        for bad in annotation_misuse(plain, annotations):
            err(i, "plain", lang, msg=f"uses the annotation {bad!r} but not character for character")
        for span in QUOTE_MARKS.findall(plain):
            if span in annotations or any(_normalise(span) in t for t in whole.values()):
                continue
            err(i, "plain", lang, msg=f"quoted Chinese {span!r} is neither an annotation nor in the documents")


def _answer_names_businesses(i: int, a: Any, c: "_Answers", err: Err) -> None:
    """The businesses an answer is about exist."""
    ids = c.ids
    for j, b in enumerate(a.businesses):
        if b not in ids.get("businesses", set()):
            err(i, "businesses", j, msg=f"unknown business {b!r}")


def _answer_names_manzhouli(i: int, a: Any, c: "_Answers", err: Err) -> None:
    """A Jiangsu fact names the Manzhouli answer on the same point (a Manzhouli one)."""
    data = c.data
    if a.manzhouli is not None:
        other = next((x for x in data.get("answers", []) if x.id == a.manzhouli), None)
        if a.region != "jiangsu":
            err(i, "manzhouli", msg="only a Jiangsu fact names the Manzhouli answer on the same point")
        elif other is None or other.region != "manzhouli":
            err(i, "manzhouli", msg=f"{a.manzhouli!r} is not a Manzhouli answer")


def _answer_sees_a_screen(i: int, a: Any, c: "_Answers", err: Err) -> None:
    """The screen of the full-answer button exists."""
    screens_with_arg = c.screens_with_arg
    see = parse_or_none(a.see) or Route("", ("?",))  # not a route: an unknown screen
    screen, arg = see.screen, see.arg or ""
    if (
        screen in screens_with_arg
        and arg not in screens_with_arg[screen]
        or (screen not in screens_with_arg and (arg or screen not in {"offices", "online", "main", "help"}))
    ):
        err(i, "see", msg=f"unknown screen {a.see!r}")


def _answer_question_forms_unique(i: int, a: Any, c: "_Answers", err: Err) -> None:
    """A question form belongs to one answer."""
    forms = c.forms
    for lang in ("zh", "ru", "en"):
        for j, q in enumerate(getattr(a.questions, lang)):
            key = _normalise(q).lower()
            if key in forms and forms[key] != a.id:
                err(i, "questions", lang, j, msg=f"the same question form is in {forms[key]!r}")
            forms[key] = a.id


ANSWER_RULES = (
    _answer_cites_quotes,
    _answer_plain_lines,
    _answer_names_businesses,
    _answer_names_manzhouli,
    _answer_sees_a_screen,
    _answer_question_forms_unique,
)  # one function each, in reporting order


def _check_answers(data, line_maps, file_of, directory: Path, ids) -> list[Problem]:
    """The answers (answers.yaml): each rule of ``ANSWER_RULES`` on each answer."""
    problems: list[Problem] = []

    def err(i, *rest, msg):
        f, line, path = _locate(line_maps, file_of, "answers", i, *rest)
        problems.append(Problem(f, line, path, msg))

    sources = {s.file: s for s in data.get("sources", [])}
    sdir = _sources_dir(directory)
    lines: dict[str, list[str]] = {}
    for file in sources:
        try:
            lines[file] = [_normalise(x) for x in (sdir / file).read_text(encoding="utf-8").splitlines()]
        except OSError:
            pass  # reported by _check_quotes
    whole = {f: " ".join(ls) for f, ls in lines.items()}
    hotline = _hotline_number(data)
    annotations = [a.text for a in data.get("annotations", [])]
    screens_with_arg = {
        "topic": ids.get("businesses", set()),
        "category": ids.get("categories", set()),
        "material": ids.get("materials", set()),
        "walk": {s.id for s in data.get("steps", [])},
        "answer": ids.get("answers", set()),
        "fact": ids.get("facts", set()),
    }
    forms: dict[str, str] = {}
    c = _Answers(data, ids, sources, lines, whole, hotline, annotations, screens_with_arg, forms)
    for i, a in enumerate(data.get("answers", [])):
        for rule in ANSWER_RULES:
            rule(i, a, c, err)
    return problems
