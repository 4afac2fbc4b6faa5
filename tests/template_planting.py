"""Does a change to any template show in a snapshot, in every language? Plants one at a time.

For every template in dialogs/templates, every piece of literal text and every quoted string in
it (a message id inside ``_("…")``, a comparison such as ``lang == "zh"``, a label) gets a marker
planted into it, one plant at a time; the snapshots (tests/snapshot_regen.py) are rendered again
with the planted template, only those that load it, and the plant must change a snapshot in a
language where it shows (a plant in a branch only Russian and English take cannot show in Chinese;
one that breaks rendering counts as caught: the snapshot test fails too). Prints the plants no
snapshot in any language notices, with their template and line, and exits 1 if there are any.

    python -m tests.template_planting [TEMPLATE …]     # all templates without arguments
    python -m tests.template_planting --web [FILE …]   # web/templates: page.html, screens/*.html, style.css, copy.js

It takes a few minutes: for each plant, the snapshots that load its template are rendered again (in --web,
the pages served again) in order, up to the first one the plant changes; the suite's
tests/test_snapshots.py checks the cheaper half on every run: each template is loaded by some
snapshot in every language.
"""

from __future__ import annotations

import sys
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import jinja2

from dialogs import render
from knowledge import load_knowledge

from .snapshot_regen import LANGUAGES, production_guide, rendered, web_sections

TEMPLATES = Path(render.__file__).resolve().parent / "templates"
WEB_TEMPLATES = TEMPLATES.parent.parent / "web" / "templates"
MARK = "⚑"


def environments() -> list[tuple[str, jinja2.Environment]]:
    """Every cached environment (functools.lru_cache keys ``(lang)`` and ``(lang, True)`` apart)."""
    out: dict[int, tuple[str, jinja2.Environment]] = {}
    for lang in LANGUAGES:
        for env in (
            render.environment(lang),
            render.environment(lang, True),
            render.environment(lang, False),
            render.environment(lang, html=True),
            render.environment(lang, html=False),
        ):
            out[id(env)] = (lang, env)
    return list(out.values())


@contextmanager
def loading_recorded() -> Iterator[list[str]]:
    """The names of the templates loaded (imports included) while inside."""
    names: list[str] = []
    original = jinja2.Environment.get_template

    def get_template(self, name, *args, **kwargs):
        names.append(name if isinstance(name, str) else name.name)
        return original(self, name, *args, **kwargs)

    jinja2.Environment.get_template = get_template  # type: ignore[method-assign]
    try:
        yield names
    finally:
        jinja2.Environment.get_template = original  # type: ignore[method-assign]


@contextmanager
def planted(name: str, source: str) -> Iterator[None]:
    """Every template environment serves ``source`` as template ``name``."""
    saved = []
    for _, env in environments():
        saved.append((env, env.loader))
        env.loader = jinja2.ChoiceLoader([jinja2.DictLoader({name: source}), env.loader])  # type: ignore[list-item]
        env.cache.clear()  # type: ignore[union-attr]
    try:
        yield
    finally:
        for env, loader in saved:
            env.loader = loader
            env.cache.clear()  # type: ignore[union-attr]


def plants(source: str) -> Iterator[tuple[int, str]]:
    """(line, planted source) for each piece of literal text and each quoted string of a template."""
    env = render.environment(LANGUAGES[0])
    cursor = 0
    for lineno, kind, value in env.lex(source):
        at = source.find(value, cursor)
        if at < 0:
            continue
        cursor = at + len(value)
        if kind == "data" and value.strip():
            offset = at + len(value) - len(value.lstrip()) + 1
        elif kind == "string" and value[:1] in "\"'" and len(value) > 2:
            offset = at + 1
        else:
            continue
        yield lineno, source[:offset] + MARK + source[offset:]


def shown(kb, cases: dict[str, set[str]], baseline: dict[str, dict[str, str]]) -> bool:
    """Whether the named cases of each language, rendered now on a fresh guide, differ from ``baseline``
    (lang → section header → section): they are rendered in order and the first one that differs answers
    (a plant in _macros.j2 shows in the first screens, not after all of them)."""
    with production_guide(kb) as guide:
        for lang, names in cases.items():
            seen = set()
            with closing(rendered(guide, lang, only=names.__contains__)) as sections:
                for _file, text in sections:
                    header = text.split("\n", 1)[0]
                    seen.add(header)
                    if text != baseline[lang].get(header):
                        return True
            if seen != {h for h in baseline[lang] if h[len("=== ") :].split(" — ")[0] in names}:
                return True
    return False


def web_plants() -> Iterator[tuple[str, int, Callable[[], object]]]:
    """(file, line, context manager planting it) for each piece of text and string of the web templates
    (page.html, buttons.html, screens/*.html …, loaded through jinja's FileSystemLoader) and each line of
    style.css and copy.js (inlined whole: web.server's STYLE and SCRIPT, read when the module is imported)."""
    from web import server

    for path in sorted(p for p in WEB_TEMPLATES.rglob("*") if p.is_file()):
        name = path.relative_to(WEB_TEMPLATES).as_posix()
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            for lineno, planted_source in plants(source):
                yield name, lineno, lambda name=name, text=planted_source: planted_web(name, text)
        else:
            attribute = {".css": "STYLE", ".js": "SCRIPT"}[path.suffix]
            lines = source.splitlines(keepends=True)
            for n, line in enumerate(lines):
                if line.strip():
                    text = "".join(lines[:n]) + line.replace(line.strip()[0], line.strip()[0] + MARK, 1) + "".join(lines[n + 1 :])
                    yield name, n + 1, lambda attribute=attribute, text=text: _patched(server, attribute, text)


@contextmanager
def _patched(owner, attribute: str, value) -> Iterator[None]:
    saved = getattr(owner, attribute)  # AttributeError: the tool no longer matches the code it plants into
    setattr(owner, attribute, value)
    try:
        yield
    finally:
        setattr(owner, attribute, saved)


def planted_web(name: str, source: str):
    """Every FileSystemLoader of web/templates serves ``source`` as template ``name``: each web server started
    inside (tests.snapshot_regen.web_snapshots starts one) makes its environments anew and loads it."""
    original = jinja2.FileSystemLoader.get_source

    def get_source(self, environment, template):
        if template == name and any(Path(p).resolve() == WEB_TEMPLATES for p in self.searchpath):
            return source, None, lambda: False
        return original(self, environment, template)

    return _patched(jinja2.FileSystemLoader, "get_source", get_source)


def main_web(kb, only: list[str]) -> int:
    baseline = list(web_sections(kb))
    missed, total = [], 0
    for name, lineno, plant in web_plants():
        if only and name not in only:
            continue
        total += 1
        try:
            with plant():
                shown = web_changed(kb, baseline)
        except Exception:  # noqa: BLE001 - a plant that breaks the page fails the snapshot test too
            continue
        if not shown:
            missed.append(f"{name}:{lineno}")
        print(f"{name}:{lineno}", file=sys.stderr, end="  \r")
    return reported(missed, f"{total} plants in the web templates")


def web_changed(kb, baseline: list[tuple[str, str]]) -> bool:
    """Whether the web snapshots served now differ from ``baseline``: the pages are asked for in order and
    the first one that differs answers (a plant in the stylesheet shows in the first page, not after all)."""
    sections = web_sections(kb)
    try:
        read = 0
        for then, now in zip(baseline, sections):  # the baseline first: zip asks for no page past its end
            read += 1
            if now != then:
                return True
        return read < len(baseline) or next(sections, None) is not None
    finally:
        sections.close()  # the server stops


def main(argv: list[str]) -> int:
    if argv[:1] == ["--web"]:
        return main_web(load_knowledge(), argv[1:])
    kb = load_knowledge()
    baseline: dict[str, dict[str, str]] = {}
    loads: dict[str, dict[str, set[str]]] = {}  # lang → section → templates it loads
    with production_guide(kb) as guide:
        for lang in LANGUAGES:
            baseline[lang], loads[lang] = {}, {}
            cases = iter(rendered(guide, lang))
            while True:
                with loading_recorded() as names:
                    try:
                        _file, text = next(cases)
                    except StopIteration:
                        break
                header = text.split("\n", 1)[0]
                baseline[lang][header] = text
                loads[lang][header] = set(names)
    templates = argv or sorted(p.name for p in TEMPLATES.glob("*.j2"))
    missed, total = [], 0
    for name in templates:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        headers = {lang: {h for h, used in loads[lang].items() if name in used} for lang in LANGUAGES}
        cases = {lang: {h[len("=== ") :].split(" — ")[0] for h in hs} for lang, hs in headers.items()}
        for lang in LANGUAGES:
            if not headers[lang]:
                missed.append(f"{name} [{lang}] no snapshot renders the template")
        for lineno, planted_source in plants(source):
            total += 1
            try:
                with planted(name, planted_source):
                    changed = shown(kb, cases, baseline)
            except Exception:  # noqa: BLE001 - a plant that breaks rendering fails the snapshot test too
                continue
            if not changed:  # no language's snapshot shows it
                missed.append(f"{name}:{lineno} {planted_source.splitlines()[lineno - 1].strip()[:100]}")
            print(f"{name}:{lineno}", file=sys.stderr, end="  \r")
    return reported(missed, f"{total} plants in {len(templates)} templates (each rendered in {', '.join(LANGUAGES)})")


def reported(missed: list[str], plants: str) -> int:
    """Print the plants no snapshot showed and the count; the exit code: 1 if there are any."""
    for line in missed:
        print("not caught:", line)
    print(f"{plants}: {len(missed)} not caught")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
