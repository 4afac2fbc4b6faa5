"""Per-user checklists: screens, button actions and the printable export.

Items are derived from the knowledge (``Knowledge.checklist_items``); ticks live in the
store under stable item ids. ``install(engine, store)`` wires the feature into an engine.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from knowledge import Knowledge
from knowledge.loader import unbalanced

from . import i18n, providers
from .engine import Context, Engine, Screen
from .render import environment

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

    def state(self, user_id: int, topic: str, ctx: Context | None = None) -> dict[str, Any]:
        """Items with their ticks; drops ticks of items the knowledge no longer has."""
        if topic not in self.kb.businesses:
            raise providers.NotFound(topic)
        ctx = ctx or Context(user_id=user_id)
        items = self.kb.checklist_items(topic)
        self.store.sync_items(user_id, topic, [i.id for i in items])
        ticks = self.store.ticks(user_id, topic)
        business = self.kb.businesses[topic]
        names = {ref.material: getattr(self.kb.materials[ref.material].plain, ctx.lang) for ref in business.materials}
        groups: list[dict[str, Any]] = []
        rows = []
        for item in items:
            ticked = item.id in ticks
            label = self.item_text(item, ctx, topic)
            if item.condition == "alternative":
                label += self._("（如交复印件）", ctx)
            short = self.engine._(item.short, ctx)
            row = {"id": item.id, "label": label, "optional": item.optional and item.condition is None, "ticked": ticked,
                   "required": not item.optional, "mark": "✅" if ticked else "☐", "button": _button_text(short, label),
                   "want": "0" if ticked else "1"}  # the state the tick button asks for
            rows.append(row)
            if not groups or groups[-1]["material"] != item.material:
                groups.append({"material": item.material, "name": names[item.material], "rows": []})
            groups[-1]["rows"].append(row)
        done = sum(r["ticked"] for r in rows)
        complete = all(r["ticked"] for r in rows if r["required"])
        siblings = [b for b in self.kb.topics_in(business.category) if b.id != topic]
        return {"business": business, "items": rows, "groups": groups, "done": done, "total": len(rows),
                "complete": complete, "bar": progress_bar(done, len(rows)), "siblings": siblings}

    # -- providers ----------------------------------------------------------------------
    def provide_checklist(self, kb: Knowledge, arg: str | None, ctx: Context) -> dict[str, Any]:
        state = self.state(ctx.user_id or 0, arg or "", ctx)
        center = next(o for o in kb.offices.values() if o.kind == "card_center")
        dropped = self.store.take_notice(ctx.user_id or 0, arg)
        notice = None
        if dropped:
            n = len(json.loads(dropped))
            notice = self.engine._("官方资料已更新，清单随之更新：%(n)s 个已勾选的项目不再需要，已移除。", ctx) % {"n": n}
        return {"hotline": kb.facts["hotline"], "kb": kb, "onsite": kb.facts["onsite"], "center": center,
                "notice": notice, **state}

    def provide_reset(self, kb: Knowledge, arg: str | None, ctx: Context) -> dict[str, Any]:
        state = self.state(ctx.user_id or 0, arg or "", ctx)
        return {"hotline": kb.facts["hotline"], "kb": kb, **state}

    def provide_list(self, kb: Knowledge, arg: str | None, ctx: Context) -> dict[str, Any]:
        out = []
        for row in self.store.list_checklists(ctx.user_id or 0):
            if row.topic not in kb.businesses:
                continue
            state = self.state(ctx.user_id or 0, row.topic)
            out.append({"id": row.topic, "name": kb.businesses[row.topic].name, "done": state["done"], "total": state["total"]})
        return {"hotline": kb.facts["hotline"], "kb": kb, "checklists": out}

    # -- actions ------------------------------------------------------------------------
    def open(self, engine: Engine, ctx: Context, args: str) -> Screen:
        if args not in self.kb.businesses:
            raise providers.NotFound(args)
        self.store.open_checklist(ctx.user_id or 0, args)
        self.store.log_event("checklist_open", topic=args, user_id=ctx.user_id)
        return engine.render(f"checklist:{args}", ctx)

    def tick(self, engine: Engine, ctx: Context, args: str) -> Screen:
        """A tick button carries the state the user wants ("topic:item:1" ticks, ":0" unticks), so a
        retried press (e.g. after an edit that failed) never undoes the first one."""
        topic, item_id, wanted = (args.split(":") + ["", ""])[:3] if args.count(":") == 2 else ("", "", "")
        if wanted not in ("0", "1") or topic not in self.kb.businesses or item_id not in {i.id for i in self.kb.checklist_items(topic)}:
            raise providers.NotFound(args)
        self.store.open_checklist(ctx.user_id or 0, topic)
        self.store.set_tick(ctx.user_id or 0, topic, item_id, wanted == "1")  # committed before we answer
        screen = engine.render(f"checklist:{topic}", ctx)
        return replace(screen, toast=self._("已勾选", ctx) if wanted == "1" else self._("已取消勾选", ctx))

    def old_toggle(self, engine: Engine, ctx: Context, args: str) -> Screen:
        """Buttons sent before ticks carried their state ("topic:item", a toggle): show the list as
        it is, change nothing (a retried toggle would undo the first press)."""
        topic, _, item_id = args.partition(":")
        if topic not in self.kb.businesses or item_id not in {i.id for i in self.kb.checklist_items(topic)}:
            raise providers.NotFound(args)
        screen = engine.render(f"checklist:{topic}", ctx)
        return replace(screen, toast=self._("这个按钮已过期，清单已刷新，请再点一次", ctx))

    def switch(self, engine: Engine, ctx: Context, args: str) -> Screen:
        """Change the business (e.g. 丢失补办 → 超期补办), keeping the ticks both share."""
        source, _, target = args.partition(":")
        kb = self.kb
        if source not in kb.businesses or target not in kb.businesses:
            raise providers.NotFound(args)
        kept = self.store.copy_ticks(ctx.user_id or 0, source, target, [i.id for i in kb.checklist_items(target)])
        screen = engine.render(f"checklist:{target}", ctx)
        return replace(screen, toast=self._("已切换，保留了 %(n)s 个共同项目的勾选", ctx) % {"n": kept})

    def ask_reset(self, engine: Engine, ctx: Context, args: str) -> Screen:
        return engine.render(f"checklist_reset:{args}", ctx)

    def reset(self, engine: Engine, ctx: Context, args: str) -> Screen:
        topic, _, owner = args.partition(":")
        if topic not in self.kb.businesses or owner != str(ctx.user_id):  # bound to the user it was shown to
            raise providers.NotFound(args)
        self.store.reset_checklist(ctx.user_id or 0, topic)
        return replace(engine.render(f"checklist:{topic}", ctx), toast=self._("清单已重置", ctx))

    def export(self, engine: Engine, ctx: Context, args: str) -> Screen:
        if args not in self.kb.businesses:
            raise providers.NotFound(args)
        text = self.export_text(ctx, args)
        screen = engine.render(f"checklist:{args}", ctx)
        name = f"checklist-{args}.txt"
        return replace(screen, document=(name, text.encode("utf-8")), toast=self._("清单已导出", ctx))

    def export_text(self, ctx: Context, topic: str) -> str:
        """A printable plain-text checklist with the office and hotline."""
        return environment(ctx.lang, html=False).get_template("checklist_export.j2").render(
            **self.provide_checklist(self.kb, topic, ctx), offices=list(self.kb.offices.values())
        ).strip() + "\n"

    def _(self, message: str, ctx: Context) -> str:
        return self.engine._(message, ctx)


def install(engine: Engine, store: Any) -> Checklists:
    """Enable checklists on an engine backed by ``store``."""
    feature = Checklists(engine, store)
    engine.extend(
        "checklist",
        providers={"checklist": feature.provide_checklist, "checklist_reset": feature.provide_reset,
                   "checklists": feature.provide_list},
        actions={"checklist_open": feature.open, "t": feature.tick, "x": feature.old_toggle, "checklist_switch": feature.switch,
                 "checklist_reset": feature.ask_reset, "checklist_reset_confirm": feature.reset,
                 "checklist_export": feature.export},
    )
    engine.checklists = feature  # type: ignore[attr-defined]
    return feature
