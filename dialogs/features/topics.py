"""A business: the first screen of its answer (what to bring and do, where, the hotline),
its verbatim rules (📖 原文), what only the Jiangsu guide adds, a material, a fact, whom to
call when stuck; and the whole answer as one text for `eport-guide show`."""

from __future__ import annotations

from typing import Any

from knowledge import Knowledge

from ..engine import Context, Engine, NotFound
from ..routes import Route
from ._shared import App, ordered_cities, sources
from .online import first_walk_route
from .pictures import copy_picture


FORM_LABELS = {"original": "原件", "copy": "复印件"}
# Punctuation joining the plain action lines (not words, so not in the catalogues).
PUNCTUATION = {
    "zh": {"list": "、", "then": "；", "colon": "："},
    "ru": {"list": ", ", "then": "; ", "colon": ": "},
    "en": {"list": ", ", "then": "; ", "colon": ": "},
}


def material_groups(kb: Knowledge, topic: str) -> list[dict[str, Any]]:
    """The business's materials, grouped where they share the same requirements.

    Each rule sentence is shown once per screen (the first group that has it)."""
    business = kb.businesses[topic]
    groups: list[dict[str, Any]] = []
    by_key: dict[tuple, dict[str, Any]] = {}
    shown: set[str] = set()
    for ref in business.materials:
        m = kb.materials[ref.material]
        key = (tuple(m.rulesets), m.form) if m.rulesets else (m.id,)
        group = by_key.get(key)
        if group is None:
            rules = []
            for rule in kb.rules_of(m.id):
                if rule.text not in shown:
                    shown.add(rule.text)
                    rules.append(rule)
            annotation = next(
                (kb.annotations[c.annotation].text for rs in m.rulesets for c in kb.rulesets[rs].checks if c.annotation),
                None,
            )
            group = {
                "names": [],
                "ids": [],
                "form": FORM_LABELS.get(m.form, ""),
                "rules": rules,
                "annotation": annotation,
                "notes": [],
            }
            by_key[key] = group
            groups.append(group)
        group["names"].append(ref.listed_as or m.name)
        group["ids"].append(m.id)
        if ref.note and ref.note not in group["notes"]:
            group["notes"].append(ref.note)
    return groups


def action_items(kb: Knowledge, topic: str, lang: str) -> list[dict[str, Any]]:
    """What to bring, as numbered action lines: one item per group of materials that share
    their requirements. Every word comes from the knowledge's plain lines (zh/ru/en)."""
    business = kb.businesses[topic]
    items: list[dict[str, Any]] = []
    by_key: dict[tuple, dict[str, Any]] = {}
    for ref in business.materials:
        m = kb.materials[ref.material]
        key = (tuple(m.rulesets), m.form, ref.form, ref.alternative, ref.action) if m.rulesets else (m.id,)
        item = by_key.get(key)
        if item is None:
            checks = [c for rs in m.rulesets for c in kb.rulesets[rs].checks]
            copy = next((c for c in checks if c.id == "copy"), None)
            annotation = next((kb.annotations[c.annotation].text for c in checks if c.annotation), None)
            item = {
                "ids": [],
                "names": [],
                "form": ref.form or (m.form if m.form in ("original", "copy") else None),
                "copy_plain": getattr(copy.plain, lang) if copy else None,
                "bring": m.form == "item" and not checks,
                "actions": [getattr(c.plain, lang) for c in checks if c.id != "copy"],
                "seal": any(c.id == "seal" for c in checks),
                "annotation": annotation,
                "signature": any(c.id == "signature" for c in checks),
                "date": any(c.id == "date" for c in checks),
                "alternative": ref.alternative,
                "action": getattr(ref.action, lang) if ref.action else None,
                "notes": [],
            }
            by_key[key] = item
            items.append(item)
        item["ids"].append(m.id)
        item["names"].append(getattr(m.plain, lang))
        for note in [*([] if ref.action else m.notes), *ref.notes]:  # an action replaces the general notes
            text = getattr(note, lang)
            if text not in item["notes"]:
                item["notes"].append(text)
    return items


def _jiangsu_extras(kb: Knowledge, topic: str) -> dict[str, Any]:
    """What only the Jiangsu guide says about this business's materials, and its facts; nothing
    for a business the guide does not cover (it is about new business only)."""
    business = kb.businesses[topic]
    if not kb.jiangsu_covers(topic):
        return {"jiangsu_groups": [], "jiangsu_facts": [], "jiangsu_covered": False}
    groups = []
    for g in material_groups(kb, topic):
        rules = [r for r in g["rules"] if r.region == "jiangsu"]
        if rules:
            groups.append({**g, "rules": rules})
    facts = [kb.facts[f] for f in business.facts if kb.facts[f].region == "jiangsu"]
    return {"jiangsu_groups": groups, "jiangsu_facts": facts, "jiangsu_covered": True}


def has_jiangsu_extras(kb: Knowledge, topic: str) -> bool:
    """Whether the Jiangsu guide adds rules or facts for this business."""
    extras = _jiangsu_extras(kb, topic)
    return bool(extras["jiangsu_groups"] or extras["jiangsu_facts"])


def topic(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The first screen of an answer: what to bring and do, where to go, the hotline."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.businesses:
        raise NotFound(arg)
    lang = ctx.lang
    business = kb.businesses[arg]
    groups = material_groups(kb, arg)
    center = next(o for o in kb.offices.values() if o.kind == "card_center")
    agents = [o for o in kb.offices.values() if o.kind == "ccb_agent"]
    items = action_items(kb, arg, lang)
    material_refs = []
    for ref in business.materials:
        m = kb.materials[ref.material]
        if (m.rulesets or m.notes) and m.id not in {r["id"] for r in material_refs}:
            material_refs.append({"id": m.id, "name": m.name, "label": getattr(m.plain, lang)})
    hotline_phones = kb.offices[kb.facts["hotline"].office].phones
    return {
        **_jiangsu_extras(kb, arg),
        "business": business,
        "category": kb.categories[business.category],
        "items": items,
        "groups": groups,  # the inline answer's compact form
        "notes": [getattr(n, lang) for n in business.notes],
        "material_refs": material_refs,
        "center": center,
        "agents": agents,
        "offices_count": len(kb.offices),
        "annotations": list(dict.fromkeys(i["annotation"] for i in items if i["annotation"])),
        "hotline_phone": hotline_phones[0],
        "sources": sources(kb, [business.source, center.source]),
        "walk_route": first_walk_route(kb, arg),
        "p": PUNCTUATION.get(lang, PUNCTUATION["zh"]),
    }


def more(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """⋯ 更多: what the first screen's keyboard leaves out, one tap away."""
    return topic(guide, ctx, route)


def rules(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """📖 原文: the Manzhouli document's own words for this business."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.businesses:
        raise NotFound(arg)
    business = kb.businesses[arg]
    groups = []
    for g in material_groups(kb, arg):
        groups.append({**g, "rules": [r for r in g["rules"] if r.region != "jiangsu"]})
    category = kb.categories[business.category]
    files = [business.source, category.source, kb.facts["onsite"].source]
    files += [r.source for g in groups for r in g["rules"]]
    return {
        "business": business,
        "category": category,
        "groups": groups,
        "card_medium": kb.facts["card_medium"],
        "onsite": kb.facts["onsite"],
        "usbkey": kb.facts["usbkey"],
        "online": kb.facts["online"],
        "has_card_medium": any(r.material == "card_medium" for r in business.materials),
        "sources": sources(kb, files),
        **_jiangsu_extras(kb, arg),
    }


def jiangsu_sources(kb: Knowledge) -> list[Any]:
    """The Jiangsu guide's source records."""
    return [s for s in kb.sources.values() if s.region == "jiangsu"]


def jiangsu(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """江苏省指南: what the Jiangsu guide adds for this business, every line labelled; for a business
    it does not cover (a button sent before it was scoped), that it does not cover it."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.businesses:
        raise NotFound(arg)
    extras = _jiangsu_extras(kb, arg)
    files = [r.source for g in extras["jiangsu_groups"] for r in g["rules"]] + [f.source for f in extras["jiangsu_facts"]]
    files = files or [s.file for s in jiangsu_sources(kb)]
    return {**extras, "business": kb.businesses[arg], "sources": sources(kb, files)}


def material(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """One material: its rules, annotation and the businesses that need it."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.materials:
        raise NotFound(arg)
    m = kb.materials[arg]
    rules = kb.rules_of(arg)
    checks = [c for rs in m.rulesets for c in kb.rulesets[rs].checks]
    annotation = next((kb.annotations[c.annotation].text for c in checks if c.annotation), None)
    used_by = [b for b in kb.businesses.values() if any(r.material == arg for r in b.materials)]
    lang = ctx.lang
    return {
        "material": m,
        "form": FORM_LABELS.get(m.form, ""),
        "rules": rules,
        "checks": checks,
        "actions": [getattr(c.plain, lang) for c in checks],
        "notes": [getattr(n, lang) for n in m.notes],
        "annotation": annotation,
        "used_by": used_by,
        "sources": sources(kb, [m.source, *(r.source for r in rules)]),
        "photo": copy_picture(kb, arg, lang),  # the prepared copy's example picture, if it is one
    }


def fact(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """One fact with its quoted source."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.facts:
        raise NotFound(arg)
    f = kb.facts[arg]
    related = [b for b in kb.businesses.values() if arg in b.facts]
    # the materials this fact is about (a template it names, a rule it quotes): their
    # notes say what the documents leave open, their 🔎 screen is one tap away
    quoted = {f.text, *f.more}
    about = [m for m in kb.materials.values() if m.template in quoted or any(r.text in quoted for r in kb.rules_of(m.id))]
    lang = ctx.lang
    return {
        "materials": [{"id": m.id, "label": getattr(m.plain, lang)} for m in about],
        "notes": list(dict.fromkeys(getattr(n, lang) for m in about for n in m.notes)),
        "fact": f,
        "office": kb.offices[f.office] if f.office else None,
        "related": related,
        "sources": sources(kb, [f.source]),
    }


def stuck(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """Whom to call about a business: the card centre, then every CCB agent branch."""
    arg = route.arg
    kb = guide.kb
    if arg not in kb.businesses:
        raise NotFound(arg)
    center = kb.offices[kb.facts["hotline"].office]
    agents = [o for c in ordered_cities(kb) for o in kb.cities[c] if o.kind == "ccb_agent"]
    return {
        "business": kb.businesses[arg],
        "center": center,
        "agents": agents,
        "hotline_phones": center.phones,
        "sources": sources(kb, [center.source, *(o.source for o in agents)]),
    }


def full_answer(engine: Engine, ctx: Context, topic: str, *, html: bool = False) -> str:
    """The whole answer about a business as one text, for staff and scripts (`eport-guide show`):
    the first screen, then the verbatim rules (📖 原文), then the labelled Jiangsu extras."""
    routes = [f"topic:{topic}", f"rules:{topic}"]
    if has_jiangsu_extras(engine.kb, topic):
        routes.append(f"jiangsu:{topic}")
    screens = [engine.render(route, ctx) for route in routes]
    separator = "\n\n" + "─" * 24 + "\n\n"
    return separator.join(s.html if html else s.text for s in screens)
