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


def main(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    return {**_common(kb), "categories": list(kb.categories.values())}


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


def topic(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    if arg not in kb.businesses:
        raise NotFound(arg)
    business = kb.businesses[arg]
    groups = material_groups(kb, arg)
    center = next(o for o in kb.offices.values() if o.kind == "card_center")
    agents = [o for o in kb.offices.values() if o.kind == "ccb_agent"]
    extra = [kb.facts[f] for f in business.facts]
    material_refs = []
    for ref in business.materials:
        m = kb.materials[ref.material]
        if m.rulesets and m.id not in {r["id"] for r in material_refs}:
            material_refs.append({"id": m.id, "name": m.name})
    files = [business.source, kb.categories[business.category].source, center.source]
    files += [r.source for g in groups for r in g["rules"]] + [f.source for f in extra]
    return {
        **_common(kb),
        "business": business,
        "category": kb.categories[business.category],
        "groups": groups,
        "material_refs": material_refs,
        "extra_facts": extra,
        "card_medium": kb.facts["card_medium"],
        "onsite": kb.facts["onsite"],
        "usbkey": kb.facts["usbkey"],
        "online": kb.facts["online"],
        "center": center,
        "agents": agents,
        "agent_cities": sorted({o.city for o in agents}, key=ordered_cities(kb).index),
        "sources": _sources(kb, files),
        "copies": [g["annotation"] for g in groups if g["annotation"]] + [kb.offices[kb.facts["hotline"].office].phones[0]],
        "first_step": kb.steps[0].id if kb.steps else None,
    }


def material(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    if arg not in kb.materials:
        raise NotFound(arg)
    m = kb.materials[arg]
    rules = kb.rules_of(arg)
    checks = [c for rs in m.rulesets for c in kb.rulesets[rs].checks]
    annotation = next((kb.annotations[c.annotation].text for c in checks if c.annotation), None)
    used_by = [b for b in kb.businesses.values() if any(r.material == arg for r in b.materials)]
    return {
        **_common(kb),
        "material": m,
        "form": FORM_LABELS.get(m.form, ""),
        "rules": rules,
        "checks": checks,
        "annotation": annotation,
        "used_by": used_by,
        "sources": _sources(kb, [m.source, *(r.source for r in rules)]),
    }


def fact(kb: Knowledge, arg: str | None, ctx: Any = None) -> dict[str, Any]:
    if arg not in kb.facts:
        raise NotFound(arg)
    f = kb.facts[arg]
    related = [b for b in kb.businesses.values() if arg in b.facts]
    if arg == "online":
        related = [b for b in kb.businesses.values() if "online" in b.methods]
    return {
        **_common(kb),
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
        "online_topics": [b for b in kb.businesses.values() if "online" in b.methods],
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
    ids = [s.id for s in kb.steps]
    if arg not in ids:
        raise NotFound(arg)
    i = ids.index(arg)
    step = kb.steps[i]
    facts = [kb.facts[f] for f in step.facts]
    quote_sources = [q.source or step.source for q in step.quotes]
    return {
        **_common(kb),
        "step": step,
        "index": i + 1,
        "total": len(ids),
        "prev": ids[i - 1] if i > 0 else None,
        "next": ids[i + 1] if i + 1 < len(ids) else None,
        "quotes": step.quotes,
        "facts": facts,
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
