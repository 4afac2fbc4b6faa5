"""Per-user checklists: screens, button actions and the printable export.

Items are derived from the knowledge (``Knowledge.checklist_items``); ticks live in the
store under stable item ids. ``Checklists`` (``guide.checklists``) computes a user's list and
its printable export; the functions below fill the screens and answer the buttons.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from knowledge import Knowledge
from knowledge.loader import unbalanced

from .. import i18n
from ..engine import Context, Engine, NotFound, Screen
from ..render import environment

if TYPE_CHECKING:
    from ..guide import Guide

BAR_WIDTH = 10
BUTTON_MAX = 40


def progress_bar(done: int, total: int) -> str:
    filled = round(BAR_WIDTH * done / total) if total else 0
    return "▓" * filled + "░" * (BAR_WIDTH - filled) + f" {round(100 * done / total) if total else 0}%"


def _button_text(short: str, label: str) -> str:
    """"<material>·<action>" within BUTTON_MAX characters, never cut inside brackets:
    bracketed asides are dropped first, then the text is cut where no bracket is open."""
    text = f"{short}·{label}"
    if len(text) <= BUTTON_MAX:
        return text
    out, depth = [], 0
    for ch in text:  # drop bracketed asides, keeping quoted annotations (「」«» “”) whole
        if ch in ("（", "("):
            depth += 1
        elif ch in ("）", ")") and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    text = re.sub(r"\s+", " ", "".join(out)).strip()
    if len(text) <= BUTTON_MAX:
        return text
    cut = BUTTON_MAX - 1
    while cut > 0 and unbalanced(text[:cut]):
        cut -= 1
    return text[:cut].rstrip("，,;；、 ") + "…"


class Checklists:
    def __init__(self, engine: Engine, store: Any):
        self.engine = engine
        self.store = store
        self._layouts: dict[tuple[str, str], Any] = {}
        self._layouts_kb: Knowledge | None = None

    @property
    def kb(self) -> Knowledge:
        return self.engine.kb

    # -- data -------------------------------------------------------------------------
    def item_text(self, item: Any, ctx: Context, topic: str) -> str:
        """The item in the user's language: the check's plain line, or what to bring."""
        if item.plain:
            return item.text(ctx.lang)
        m = self.kb.materials[item.material]
        name = getattr(m.plain, ctx.lang)
        ref = next((r for r in self.kb.businesses[topic].materials if r.material == item.material), None)
        if ref is not None and ref.alternative:
            tr = i18n.beside(ref.alternative, ctx.lang)
            alt = f"{ref.alternative}（{tr}）" if tr else ref.alternative
            return self._("%(name)s 或 %(alt)s（二选一）", ctx) % {"name": name, "alt": alt}
        return name

    def notes(self, topic: str, lang: str) -> tuple[list[str], dict[str, list[str]]]:
        """The caveats the answer gives, in ``lang``: the business's own (ℹ️), and each material's
        (▫️: what the documents leave open, or what applies in this business instead)."""
        business = self.kb.businesses[topic]
        per_material: dict[str, list[str]] = {}
        for ref in business.materials:
            m = self.kb.materials[ref.material]
            lines = [getattr(ref.action, lang)] if ref.action else [getattr(n, lang) for n in m.notes]
            lines += [getattr(n, lang) for n in ref.notes]
            per_material[m.id] = list(dict.fromkeys(lines))
        return [getattr(n, lang) for n in business.notes], per_material

    def _layout(self, topic: str, lang: str) -> tuple[tuple[tuple[dict[str, Any], dict[str, Any]], ...], tuple[tuple[str, str, tuple[int, ...]], ...]]:
        """What never changes for a business in a language: each item's texts (unticked, ticked), and
        the materials (id, name, item positions). Built once per knowledge, business and language."""
        key = (topic, lang)
        if self._layouts_kb is not self.kb:
            self._layouts, self._layouts_kb = {}, self.kb
        if key not in self._layouts:
            ctx = Context(lang=lang)
            business = self.kb.businesses[topic]
            names = {ref.material: getattr(self.kb.materials[ref.material].plain, lang) for ref in business.materials}
            rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
            groups: list[tuple[str, str, list[int]]] = []
            for n, item in enumerate(self.kb.checklist_items(topic)):
                label = self.item_text(item, ctx, topic)
                if item.condition == "alternative":
                    label += self._("（如交复印件）", ctx)
                button = _button_text(self.engine._(item.short, ctx), label)
                row = {"id": item.id, "material": item.material, "label": label,
                       "optional": item.optional and item.condition is None, "required": not item.optional,
                       "button": button, "na": False,
                       "na_button": _button_text(self._("🚫 不适用：", ctx) + self.engine._(item.short, ctx), label),
                       "applies_button": _button_text(self._("↩️ 适用：", ctx) + self.engine._(item.short, ctx), label)}
                # the tick button carries the state it asks for
                rows.append(({**row, "ticked": False, "mark": "☐", "want": "1"}, {**row, "ticked": True, "mark": "✅", "want": "0"}))
                if not groups or groups[-1][0] != item.material:
                    groups.append((item.material, names[item.material], []))
                groups[-1][2].append(n)
            self._layouts[key] = (tuple(rows), tuple((m, name, tuple(ix)) for m, name, ix in groups))
        return self._layouts[key]

    def state(self, user_id: int, topic: str, ctx: Context | None = None) -> dict[str, Any]:
        """Items with their ticks, per material and overall; drops ticks of items the knowledge no longer has."""
        if topic not in self.kb.businesses:
            raise NotFound(topic)
        ctx = ctx or Context(user_id=user_id)
        layout, materials = self._layout(topic, ctx.lang)
        ticks = self.store.ticks(user_id, topic)
        if not ticks <= {off["id"] for off, _ in layout}:
            self.store.sync_items(user_id, topic, [off["id"] for off, _ in layout])
            ticks = self.store.ticks(user_id, topic)
        # 不适用: only an optional item can be marked so; it no longer counts in done or total
        na = self.store.not_applicable(user_id, topic)
        rows = [{**off, "ticked": False, "na": True, "mark": "➖"} if off["optional"] and off["id"] in na
                else on if off["id"] in ticks else off for off, on in layout]
        groups = []
        for material, name, positions in materials:
            members = [rows[i] for i in positions]
            counted = [r for r in members if not r["na"]]
            done_here = sum(r["ticked"] for r in counted)
            complete_here = all(r["ticked"] for r in counted if r["required"])
            mark = "➖" if not counted else "✅" if complete_here and done_here else "☐"
            groups.append({"material": material, "name": name, "rows": members, "done": done_here, "total": len(counted),
                           "mark": mark, "na": not counted})
        counted = [r for r in rows if not r["na"]]
        done = sum(r["ticked"] for r in counted)
        complete = all(r["ticked"] for r in counted if r["required"])
        business = self.kb.businesses[topic]
        siblings = [b for b in self.kb.topics_in(business.category) if b.id != topic]
        notes, material_notes = self.notes(topic, ctx.lang)
        return {"business": business, "items": rows, "groups": groups, "done": done, "total": len(counted),
                "not_applicable": len(rows) - len(counted), "notes": notes, "material_notes": material_notes,
                "complete": complete, "bar": progress_bar(done, len(counted)), "siblings": siblings}

    def export_text(self, ctx: Context, topic: str) -> str:
        """A printable plain-text checklist with the office and hotline."""
        values = {**self.engine.base_values(), **self.screen_values(ctx, topic), "offices": list(self.kb.offices.values()),
                  "lang": ctx.lang}
        return environment(ctx.lang, html=False).get_template("checklist_export.j2").render(values).strip() + "\n"

    def screen_values(self, ctx: Context, topic: str) -> dict[str, Any]:
        """The checklist screen's variables (and the export's): the items, the office, a notice
        when the official documents changed and ticks were dropped."""
        kb = self.kb
        state = self.state(ctx.user_id or 0, topic, ctx)
        center = next(o for o in kb.offices.values() if o.kind == "card_center")
        dropped = self.store.take_notice(ctx.user_id or 0, topic)
        notice = None
        if dropped:
            n = len(json.loads(dropped))
            notice = self._("官方资料已更新，清单随之更新：%(n)s 个已勾选的项目不再需要，已移除。", ctx) % {"n": n}
        # the overview looks the same for everyone at the same progress: rendered once per state
        key = None if notice else ("overview", tuple((g["done"], g["total"], g["mark"]) for g in state["groups"]), state["complete"])
        return {"onsite": kb.facts["onsite"], "center": center, "notice": notice, "page": None, "cache_key": key, **state}

    def page_values(self, ctx: Context, topic: str, material: str) -> dict[str, Any]:
        """One material's page: its items with a tick button each, and the overall progress."""
        values = self.screen_values(ctx, topic)
        groups = values["groups"]
        at = next((i for i, g in enumerate(groups) if g["material"] == material), None)
        if at is None:
            raise NotFound(f"{topic}:{material}")
        page = {**groups[at], "notes": values["material_notes"].get(material, []),
                "tick_rows": [r for r in groups[at]["rows"] if not r["na"]],  # a 不适用 item has no tick button
                "na_rows": [r for r in groups[at]["rows"] if r["optional"]]}  # … and each optional one a 不适用 button
        key = None if values["notice"] else ("page", tuple((r["ticked"], r["na"]) for r in page["rows"]),
                                             values["done"], values["total"], values["complete"])
        return {**values, "page": page, "cache_key": key, "prev": groups[at - 1]["material"] if at > 0 else None,
                "next": groups[at + 1]["material"] if at + 1 < len(groups) else None}

    def mark(self, ctx: Context, action: str, args: str) -> dict[str, Any]:
        """A tick or 不适用 from a page that draws its own checklist (the web page's script): ``action``
        "tick" or "na" with the buttons' arguments ("topic:item:1" sets, ":0" undoes), validated and
        stored as the buttons do (committed before we answer), then only the progress, read back:
        ``done``, ``total``, ``not_applicable`` and per material (``groups``: material → (done, total,
        all 不适用)), and the ``toast``. No screen is drawn. Raises NotFound as the buttons do."""
        topic, item_id, wanted = args.split(":") if args.count(":") == 2 else ("", "", "")
        items = {i.id: i for i in self.kb.checklist_items(topic)} if topic in self.kb.businesses else {}
        item = items.get(item_id)
        if wanted not in ("0", "1") or item is None or action not in ("tick", "na"):
            raise NotFound(args)
        if action == "na" and (not item.optional or item.condition is not None):
            raise NotFound(args)
        user_id, on = ctx.user_id or 0, wanted == "1"
        if action == "tick":
            self.store.tick(user_id, topic, item_id, on)
            toast = self._("已勾选", ctx) if on else self._("已取消勾选", ctx)
        else:
            self.store.mark_not_applicable(user_id, topic, item_id, on)
            toast = self._("已标为不适用", ctx) if on else self._("已恢复为适用", ctx)
        # the counts of ``state`` (a 不适用 item counts in neither), read back without building its rows
        layout, materials = self._layout(topic, ctx.lang)
        ticks, na = self.store.ticks(user_id, topic), self.store.not_applicable(user_id, topic)
        groups: dict[str, tuple[int, int, bool]] = {}
        for material, _, positions in materials:
            counted = [row["id"] for row, _ in (layout[i] for i in positions) if not (row["optional"] and row["id"] in na)]
            groups[material] = (sum(i in ticks for i in counted), len(counted), not counted)
        done, total = sum(g[0] for g in groups.values()), sum(g[1] for g in groups.values())
        return {"done": done, "total": total, "not_applicable": len(layout) - total, "toast": toast, "groups": groups}

    def _(self, message: str, ctx: Context) -> str:
        return self.engine._(message, ctx)


# -- screens ----------------------------------------------------------------------------------
def checklist(guide: "Guide", arg: str | None, ctx: Context) -> dict[str, Any]:
    return guide.checklists.screen_values(ctx, arg or "")


def part(guide: "Guide", arg: str | None, ctx: Context) -> dict[str, Any]:
    """A material's page of a checklist ("<business>:<material>")."""
    topic, _, material = (arg or "").partition(":")
    return guide.checklists.page_values(ctx, topic, material)


def reset_screen(guide: "Guide", arg: str | None, ctx: Context) -> dict[str, Any]:
    return guide.checklists.state(ctx.user_id or 0, arg or "", ctx)


def checklists(guide: "Guide", arg: str | None, ctx: Context) -> dict[str, Any]:
    """The user's checklists with their progress."""
    kb, lists = guide.kb, guide.checklists
    out = []
    for row in guide.store.list_checklists(ctx.user_id or 0):
        if row.topic not in kb.businesses:
            continue
        state = lists.state(ctx.user_id or 0, row.topic)
        out.append({"id": row.topic, "name": kb.businesses[row.topic].name, "done": state["done"], "total": state["total"]})
    return {"checklists": out}


# -- button actions ---------------------------------------------------------------------------
def open_(guide: "Guide", ctx: Context, args: str) -> Screen:
    if args not in guide.kb.businesses:
        raise NotFound(args)
    guide.store.open_checklist(ctx.user_id or 0, args)
    guide.store.log_event("checklist_open", topic=args, user_id=ctx.user_id)
    return guide.engine.render(f"checklist:{args}", ctx)


def _item_ids(guide: "Guide", topic: str) -> set[str]:
    return {i.id for i in guide.kb.checklist_items(topic)}


def tick(guide: "Guide", ctx: Context, args: str) -> Screen:
    """A tick button carries the state the user wants ("topic:item:1" ticks, ":0" unticks), so a
    retried press (e.g. after an edit that failed) never undoes the first one."""
    topic, item_id, wanted = args.split(":") if args.count(":") == 2 else ("", "", "")
    if wanted not in ("0", "1") or topic not in guide.kb.businesses or item_id not in _item_ids(guide, topic):
        raise NotFound(args)
    guide.store.tick(ctx.user_id or 0, topic, item_id, wanted == "1")  # committed before we answer
    screen = guide.engine.render(f"checklist_part:{topic}:{item_id.split('.', 1)[0]}", ctx)
    return replace(screen, toast=guide.engine._("已勾选", ctx) if wanted == "1" else guide.engine._("已取消勾选", ctx))


def not_applicable(guide: "Guide", ctx: Context, args: str) -> Screen:
    """不适用 on an optional item ("topic:item:1" marks it, ":0" undoes it): it stops counting
    against the progress. Stored per user, like ticks, before we answer."""
    topic, item_id, wanted = args.split(":") if args.count(":") == 2 else ("", "", "")
    items = {i.id: i for i in guide.kb.checklist_items(topic)} if topic in guide.kb.businesses else {}
    item = items.get(item_id)
    if wanted not in ("0", "1") or item is None or not item.optional or item.condition is not None:
        raise NotFound(args)
    guide.store.mark_not_applicable(ctx.user_id or 0, topic, item_id, wanted == "1")
    screen = guide.engine.render(f"checklist_part:{topic}:{item.material}", ctx)
    return replace(screen, toast=guide.engine._("已标为不适用", ctx) if wanted == "1" else guide.engine._("已恢复为适用", ctx))


def old_toggle(guide: "Guide", ctx: Context, args: str) -> Screen:
    """Buttons sent before ticks carried their state ("x|topic:item", a toggle): show the list as
    it is, change nothing (a retried toggle would undo the first press)."""
    topic, _, item_id = args.partition(":")
    if topic not in guide.kb.businesses or item_id not in _item_ids(guide, topic):
        raise NotFound(args)
    screen = guide.engine.render(f"checklist_part:{topic}:{item_id.split('.', 1)[0]}", ctx)
    return replace(screen, toast=guide.engine._("这个按钮已过期，清单已刷新，请再点一次", ctx))


def switch(guide: "Guide", ctx: Context, args: str) -> Screen:
    """Change the business (e.g. 丢失补办 → 超期补办), keeping the ticks both share."""
    source, _, target = args.partition(":")
    kb = guide.kb
    if source not in kb.businesses or target not in kb.businesses:
        raise NotFound(args)
    kept = guide.store.copy_ticks(ctx.user_id or 0, source, target, [i.id for i in kb.checklist_items(target)])
    optional = {i.id for i in kb.checklist_items(target) if i.optional and i.condition is None}
    for item_id in guide.store.not_applicable(ctx.user_id or 0, source) & optional:  # 不适用 carries over too
        guide.store.mark_not_applicable(ctx.user_id or 0, target, item_id, True)
    screen = guide.engine.render(f"checklist:{target}", ctx)
    return replace(screen, toast=guide.engine._("已切换，保留了 %(n)s 个共同项目的勾选", ctx) % {"n": kept})


def ask_reset(guide: "Guide", ctx: Context, args: str) -> Screen:
    return guide.engine.render(f"checklist_reset:{args}", ctx)


def reset(guide: "Guide", ctx: Context, args: str) -> Screen:
    topic, _, owner = args.partition(":")
    if topic not in guide.kb.businesses or owner != str(ctx.user_id):  # bound to the user it was shown to
        raise NotFound(args)
    guide.store.reset_checklist(ctx.user_id or 0, topic)
    guide.store.clear_not_applicable(ctx.user_id or 0, topic)
    return replace(guide.engine.render(f"checklist:{topic}", ctx), toast=guide.engine._("清单已重置", ctx))


def export(guide: "Guide", ctx: Context, args: str) -> Screen:
    if args not in guide.kb.businesses:
        raise NotFound(args)
    text = guide.checklists.export_text(ctx, args)
    screen = guide.engine.render(f"checklist:{args}", ctx)
    name = f"checklist-{args}.txt"
    return replace(screen, document=(name, text.encode("utf-8")), toast=guide.engine._("清单已导出", ctx))
