"""Providers: turn a route's argument into the variables of its screen's template.

One function per screen id. A provider raises NotFound for an argument that names
nothing (a stale or forged button); it never reads files — the knowledge is in memory.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from knowledge import Knowledge

FORM_LABELS = {"original": "原件", "copy": "复印件"}
CITY_ORDER = ("满洲里", "呼伦贝尔", "赤峰", "通辽", "乌兰浩特")


class NotFound(LookupError):
    """The route's argument names nothing in the current knowledge."""


def _sources(kb: Knowledge, files: Iterable[str]) -> list[dict[str, str]]:
    seen: list[str] = []
    for f in files:
        if f and f not in seen:
            seen.append(f)
    seen.sort()
    return [{"label": kb.source_label(f), "verified_on": str(kb.sources[f].verified_on)} for f in seen]


def _common(kb: Knowledge) -> dict[str, Any]:
    return {"hotline": kb.facts["hotline"], "kb": kb}


def ordered_cities(kb: Knowledge) -> list[str]:
    return sorted(kb.cities, key=lambda c: (CITY_ORDER.index(c) if c in CITY_ORDER else 99, c))


def _lang(ctx: Any) -> str:
    return getattr(ctx, "lang", None) or "zh"


# Punctuation joining the plain action lines (not words, so not in the catalogues).
PUNCTUATION = {"zh": {"list": "、", "then": "；", "colon": "："},
               "ru": {"list": ", ", "then": "; ", "colon": ": "},
               "en": {"list": ", ", "then": "; ", "colon": ": "}}


def main(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    menu = [{"category": c, "topics": kb.topics_in(c.id)} for c in kb.categories.values()]
    return {**_common(kb), "categories": list(kb.categories.values()), "menu": menu}


def category(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    if arg not in kb.categories:
        raise NotFound(arg)
    return {**_common(kb), "category": kb.categories[arg], "topics": kb.topics_in(arg)}


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
            group = {"names": [], "ids": [], "form": FORM_LABELS.get(m.form, ""), "rules": rules, "annotation": annotation, "notes": []}
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
        key = (tuple(m.rulesets), m.form, ref.form, ref.alternative) if m.rulesets else (m.id,)
        item = by_key.get(key)
        if item is None:
            checks = [c for rs in m.rulesets for c in kb.rulesets[rs].checks]
            copy = next((c for c in checks if c.id == "copy"), None)
            annotation = next((kb.annotations[c.annotation].text for c in checks if c.annotation), None)
            item = {
                "ids": [], "names": [],
                "form": ref.form or (m.form if m.form in ("original", "copy") else None),
                "copy_plain": getattr(copy.plain, lang) if copy else None,
                "bring": m.form == "item" and not checks,
                "actions": [getattr(c.plain, lang) for c in checks if c.id != "copy"],
                "seal": any(c.id == "seal" for c in checks),
                "annotation": annotation,
                "signature": any(c.id == "signature" for c in checks),
                "date": any(c.id == "date" for c in checks),
                "alternative": ref.alternative,
                "notes": [],
            }
            by_key[key] = item
            items.append(item)
        item["ids"].append(m.id)
        item["names"].append(getattr(m.plain, lang))
        for note in [*m.notes, *ref.notes]:
            text = getattr(note, lang)
            if text not in item["notes"]:
                item["notes"].append(text)
    return items


def _jiangsu_extras(kb: Knowledge, topic: str) -> dict[str, Any]:
    """What only the Jiangsu guide says about this business's materials, and its facts."""
    business = kb.businesses[topic]
    groups = []
    for g in material_groups(kb, topic):
        rules = [r for r in g["rules"] if r.region == "jiangsu"]
        if rules:
            groups.append({**g, "rules": rules})
    facts = [kb.facts[f] for f in business.facts if kb.facts[f].region == "jiangsu"]
    return {"jiangsu_groups": groups, "jiangsu_facts": facts}


def has_jiangsu_extras(kb: Knowledge, topic: str) -> bool:
    extras = _jiangsu_extras(kb, topic)
    return bool(extras["jiangsu_groups"] or extras["jiangsu_facts"])


def first_walk_route(kb: Knowledge, topic: str) -> str | None:
    steps = walk_track(kb, topic)
    return f"walk:{topic}.{steps[0].id}" if steps else None


def walk_track(kb: Knowledge, topic: str | None) -> list[Any]:
    """The walkthrough steps for a business (all steps without one)."""
    if topic is None:
        return list(kb.steps)
    if "online" not in kb.businesses[topic].methods:
        return []
    return [s for s in kb.steps if not s.applies_to or topic in s.applies_to]


def topic(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    """The first screen of an answer: what to bring and do, where to go, the hotline."""
    if arg not in kb.businesses:
        raise NotFound(arg)
    lang = _lang(ctx)
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
        **_common(kb),
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
        "sources": _sources(kb, [business.source, center.source]),
        "walk_route": first_walk_route(kb, arg),
        "p": PUNCTUATION.get(lang, PUNCTUATION["zh"]),
    }


def rules(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    """📖 原文: the Manzhouli document's own words for this business."""
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
        **_common(kb),
        "business": business,
        "category": category,
        "groups": groups,
        "card_medium": kb.facts["card_medium"],
        "onsite": kb.facts["onsite"],
        "usbkey": kb.facts["usbkey"],
        "online": kb.facts["online"],
        "has_card_medium": any(r.material == "card_medium" for r in business.materials),
        "sources": _sources(kb, files),
        **_jiangsu_extras(kb, arg),
    }


def jiangsu(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    """江苏省指南: what the Jiangsu guide adds for this business, every line labelled."""
    if arg not in kb.businesses:
        raise NotFound(arg)
    extras = _jiangsu_extras(kb, arg)
    if not extras["jiangsu_groups"] and not extras["jiangsu_facts"]:
        raise NotFound(arg)
    files = [r.source for g in extras["jiangsu_groups"] for r in g["rules"]] + [f.source for f in extras["jiangsu_facts"]]
    return {**_common(kb), **extras, "business": kb.businesses[arg], "sources": _sources(kb, files)}


def material(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    if arg not in kb.materials:
        raise NotFound(arg)
    m = kb.materials[arg]
    rules = kb.rules_of(arg)
    checks = [c for rs in m.rulesets for c in kb.rulesets[rs].checks]
    annotation = next((kb.annotations[c.annotation].text for c in checks if c.annotation), None)
    used_by = [b for b in kb.businesses.values() if any(r.material == arg for r in b.materials)]
    lang = _lang(ctx)
    return {
        **_common(kb),
        "material": m,
        "form": FORM_LABELS.get(m.form, ""),
        "rules": rules,
        "checks": checks,
        "actions": [getattr(c.plain, lang) for c in checks],
        "notes": [getattr(n, lang) for n in m.notes],
        "annotation": annotation,
        "used_by": used_by,
        "sources": _sources(kb, [m.source, *(r.source for r in rules)]),
    }


def fact(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    if arg not in kb.facts:
        raise NotFound(arg)
    f = kb.facts[arg]
    related = [b for b in kb.businesses.values() if arg in b.facts]
    # the materials this fact is about (a template it names, a rule it quotes): their
    # notes say what the documents leave open, their 🔎 screen is one tap away
    quoted = {f.text, *f.more}
    about = [m for m in kb.materials.values()
             if m.template in quoted or any(r.text in quoted for r in kb.rules_of(m.id))]
    lang = _lang(ctx)
    return {
        **_common(kb),
        "materials": [{"id": m.id, "label": getattr(m.plain, lang)} for m in about],
        "notes": list(dict.fromkeys(getattr(n, lang) for m in about for n in m.notes)),
        "fact": f,
        "office": kb.offices[f.office] if f.office else None,
        "related": related,
        "sources": _sources(kb, [f.source]),
    }


def _localised(value: Any, ctx: Any) -> str:
    lang = getattr(ctx, "lang", "zh") or "zh"
    return getattr(value, lang, None) or value.zh


def _see(kb: Knowledge, route: str) -> dict[str, str]:
    """The screen behind an answer's "full answer" button: its kind and its (Chinese) name."""
    kind, _, arg = route.partition(":")
    names = {
        "topic": lambda: kb.businesses[arg].name,
        "category": lambda: kb.categories[arg].name,
        "material": lambda: kb.materials[arg].name,
        "walk": lambda: next(s.title for s in kb.steps if s.id == arg),
    }
    return {"kind": kind, "name": names[kind]() if kind in names else "", "route": route}


def answer(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    """One fact answering one question: the plain line in the user's language."""
    if arg not in kb.answers:
        raise NotFound(arg)
    a = kb.answers[arg]
    phones = kb.offices[kb.facts["hotline"].office].phones
    return {
        **_common(kb),
        "answer": a,
        "title": _localised(a.title, ctx),
        "plain": _localised(a.plain, ctx),
        "see": _see(kb, a.see),
        "hotline_phone": phones[0],
    }


def answer_source(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    """The verbatim clause(s) behind an answer, with file and line."""
    if arg not in kb.answers or kb.answers[arg].silent:
        raise NotFound(arg)
    a = kb.answers[arg]
    quotes = [{"text": q.text, "file": q.file, "line": q.line, "label": kb.source_label(q.file)} for q in a.quotes]
    return {
        **_common(kb),
        "answer": a,
        "title": _localised(a.title, ctx),
        "plain": _localised(a.plain, ctx),
        "quotes": quotes,
        "sources": _sources(kb, [q.file for q in a.quotes]),
    }


def offices(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    cities = [{"name": c, "count": len(kb.cities[c]), "offices": kb.cities[c]} for c in ordered_cities(kb)]
    return {
        **_common(kb),
        "cities": cities,
        "onsite": kb.facts["onsite"],
        "sources": _sources(kb, [o.source for o in kb.offices.values()]),
    }


def city(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    if arg not in kb.cities:
        raise NotFound(arg)
    offices_ = kb.cities[arg]
    return {**_common(kb), "city": arg, "offices": offices_, "onsite": kb.facts["onsite"], "usbkey": kb.facts["usbkey"],
            "has_agents": any(o.kind == "ccb_agent" for o in offices_),
            "sources": _sources(kb, [o.source for o in offices_])}


def online(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    jiangsu = [kb.facts[f] for f in ("upload_files", "statuses", "refund_deadline", "max_operators", "one_card_per_operator", "free_first_set")]
    online_fact, system = kb.facts["online"], kb.facts["online_system"]
    return {
        **_common(kb),
        "online": online_fact,
        "system": system,
        "system_url": system.values["url"],
        "first_step": kb.steps[0].id if kb.steps else None,
        "jiangsu": jiangsu,
        "sources": _sources(kb, [online_fact.source, system.source, *(f.source for f in jiangsu)]),
    }


def stuck(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    """Whom to call about a business: the card centre, then every CCB agent branch."""
    if arg not in kb.businesses:
        raise NotFound(arg)
    center = kb.offices[kb.facts["hotline"].office]
    agents = [o for c in ordered_cities(kb) for o in kb.cities[c] if o.kind == "ccb_agent"]
    return {
        **_common(kb),
        "business": kb.businesses[arg],
        "center": center,
        "agents": agents,
        "hotline_phones": center.phones,
        "sources": _sources(kb, [center.source, *(o.source for o in agents)]),
    }


def walk(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    """One step of the online walkthrough: "walk:<step>" (every step) or
    "walk:<topic>.<step>" (only the steps that apply to that business)."""
    topic_id, _, step_id = (arg or "").rpartition(".")
    if topic_id and topic_id not in kb.businesses:
        raise NotFound(arg)
    track = walk_track(kb, topic_id or None)
    ids = [s.id for s in track]
    if step_id not in ids:
        raise NotFound(arg)
    i = ids.index(step_id)
    step = track[i]
    prefix = f"{topic_id}." if topic_id else ""
    facts = [kb.facts[f] for f in step.facts]
    quote_sources = [q.source or step.source for q in step.quotes]
    skipped = len(kb.steps) - len(track) if topic_id else 0
    return {
        **_common(kb),
        "step": step,
        "index": i + 1,
        "total": len(ids),
        "prev": prefix + ids[i - 1] if i > 0 else None,
        "next": prefix + ids[i + 1] if i + 1 < len(ids) else None,
        "business": kb.businesses[topic_id] if topic_id else None,
        "skipped": skipped,
        "quotes": step.quotes,
        "facts": facts,
        "notes": [getattr(n, _lang(ctx)) for n in step.notes],
        "mzl_source": kb.facts["hotline"].source,
        "sources": _sources(kb, [step.source, *quote_sources, *(f.source for f in facts)]),
    }


def precheck(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    rule = kb.facts["upload_files"]
    return {**_common(kb), "rule": rule, "first_step": kb.steps[0].id if kb.steps else None,
            "sources": _sources(kb, [rule.source])}


def help(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:  # noqa: A001 - screen name
    return _common(kb)


Provider = Callable[[Knowledge, str | None, Any], dict[str, Any]]

PROVIDERS: dict[str, Provider] = {
    "main": main,
    "category": category,
    "topic": topic,
    "rules": rules,
    "jiangsu": jiangsu,
    "material": material,
    "fact": fact,
    "answer": answer,
    "answer_source": answer_source,
    "offices": offices,
    "city": city,
    "online": online,
    "help": help,
    "stuck": stuck,
    "walk": walk,
    "precheck": precheck,
    "privacy": lambda kb, arg, ctx=None: {**_common(kb), "retention_days": None},
}
