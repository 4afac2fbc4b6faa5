"""Per-user checklists: a user's list, its pages per material and the printable export.

Items are derived from the knowledge (``Knowledge.checklist_items``); ticks live in the
store under stable item ids. ``Checklists`` (``guide.checklists``) computes them;
``dialogs.features.checklist`` fills the screens and answers the buttons with it.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from knowledge import Knowledge
from knowledge.loader import unbalanced

from . import i18n
from .engine import Context, Engine, NotFound
from .i18n import t
from .render import environment

BAR_WIDTH = 10
BUTTON_MAX = 40
STATES_MAX = 512  # checklist states kept (business × language × marks; ~6 KB each)
PROGRESS_MAX = 8192  # the script's progress per business and marks kept (~1 KB each)


def progress_bar(done: int, total: int) -> str:
    """A ten-block bar with the percentage done."""
    filled = round(BAR_WIDTH * done / total) if total else 0
    return "▓" * filled + "░" * (BAR_WIDTH - filled) + f" {round(100 * done / total) if total else 0}%"


def _button_text(short: str, label: str) -> str:
    """ "<material>·<action>" within BUTTON_MAX characters, never cut inside brackets:
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
    """Users' checklists: their items and ticks, pages per material, the printable export."""

    def __init__(self, engine: Engine, store: Any):
        self.engine = engine
        self.store = store
        self._layouts: dict[tuple[str, str], Any] = {}
        self._layouts_kb: Knowledge | None = None
        # a checklist's state and screen variables per (business, language, ticks, 不适用 marks): the same for
        # every user with those marks, computed once (per knowledge) and shared, never changed
        self._states: dict[tuple[str, str, frozenset[str], frozenset[str]], tuple[dict[str, Any], dict[str, Any]]] = {}
        # the progress ``mark`` answers per (business, ticks, 不适用 marks), the same in every language: counted once
        # (per knowledge); and per business (with its layouts), each item's id → whether 不适用 may be marked
        self._progress: dict[
            tuple[str, frozenset[str], frozenset[str]], tuple[int, int, int, tuple[tuple[str, tuple[int, int, bool]], ...]]
        ] = {}
        self._optional: dict[str, dict[str, bool]] = {}
        # the marks ``sync`` read, for the ``state`` of the same screen right after it (one use; dropped
        # if anything was written since): (thread, user, topic, the store's write count, marks)
        self._read_ahead: tuple[int, int, str, int, tuple[set[str], set[str], str | None]] | None = None

    @property
    def kb(self) -> Knowledge:
        """The current knowledge."""
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

    def _layout(
        self, topic: str, lang: str
    ) -> tuple[
        tuple[tuple[dict[str, Any], dict[str, Any], dict[str, Any]], ...],
        tuple[tuple[str, str, tuple[int, ...]], ...],
        frozenset[str],
    ]:
        """What never changes for a business in a language: each item's rows (unticked, ticked, 不适用),
        the materials (id, name, item positions) and the items' ids. Built once per knowledge, business and
        language."""
        key = (topic, lang)
        if self._layouts_kb is not self.kb:
            self._layouts, self._layouts_kb, self._states, self._progress, self._optional = {}, self.kb, {}, {}, {}
        if key not in self._layouts:
            ctx = Context(lang=lang)
            business = self.kb.businesses[topic]
            names = {ref.material: getattr(self.kb.materials[ref.material].plain, lang) for ref in business.materials}
            rows: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
            groups: list[tuple[str, str, list[int]]] = []
            for n, item in enumerate(self.kb.checklist_items(topic)):
                label = self.item_text(item, ctx, topic)
                if item.condition == "alternative":
                    label += self._("（如交复印件）", ctx)
                button = _button_text(t(item.short, ctx), label)
                row = {
                    "id": item.id,
                    "material": item.material,
                    "label": label,
                    "optional": item.optional and item.condition is None,
                    "required": not item.optional,
                    "button": button,
                    "na": False,
                    "na_button": _button_text(self._("🚫 不适用：", ctx) + t(item.short, ctx), label),
                    "applies_button": _button_text(self._("↩️ 适用：", ctx) + t(item.short, ctx), label),
                }
                # the tick button carries the state it asks for
                off = {**row, "ticked": False, "mark": "☐", "want": "1"}
                rows.append((off, {**row, "ticked": True, "mark": "✅", "want": "0"}, {**off, "na": True, "mark": "➖"}))
                if not groups or groups[-1][0] != item.material:
                    groups.append((item.material, names[item.material], []))
                groups[-1][2].append(n)
            ids = frozenset(row["id"] for row, _, _ in rows)
            self._optional[topic] = {row["id"]: row["optional"] for row, _, _ in rows}  # the same in every language
            self._layouts[key] = (tuple(rows), tuple((m, name, tuple(ix)) for m, name, ix in groups), ids)
        return self._layouts[key]

    def _rows(self, topic: str, lang: str, ticks: set[str], na: set[str]) -> list[dict[str, Any]]:
        """The one reading of a user's marks, for the checklist's screens (``state``) and the page's script
        (``mark``) alike: each item's row, in the knowledge's order — 不适用 when the item may be so marked
        (optional without a condition) and is (it then counts in neither done nor total, ticked or not),
        else ticked or not. Marks of items the knowledge no longer has are not read."""
        return [
            na_row if off["optional"] and off["id"] in na else on if off["id"] in ticks else off
            for off, on, na_row in self._layout(topic, lang)[0]
        ]

    def state(self, user_id: int, topic: str, ctx: Context | None = None) -> dict[str, Any]:
        """Items with their ticks, per material and overall (read only: ticks of items the knowledge no
        longer has are not counted; ``sync`` drops them from the store). Shared: not to be changed."""
        return self._marked(user_id, topic, ctx)[0]

    def _marked(self, user_id: int, topic: str, ctx: Context | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(``state``, ``screen_values``) of the user's checklist: read the user's marks, then look them
        up by business, language and marks (computed on first use)."""
        if topic not in self.kb.businesses:
            raise NotFound(topic)
        lang = ctx.lang if ctx is not None else i18n.DEFAULT_LANGUAGE
        ids = self._layout(topic, lang)[2]
        ahead = self._take_read_ahead(user_id, topic)  # what ``sync`` just read for this screen, if nothing written since
        ticks, na, _ = ahead if ahead is not None else self.store.checklist_marks(user_id, topic)  # one read
        key = (topic, lang, frozenset(ticks & ids), frozenset(na & ids))
        hit = self._states.get(key)
        if hit is None:
            if len(self._states) >= STATES_MAX:
                self._states.clear()
            state = self._state(topic, lang, key[2], key[3])
            kb = self.kb
            center = next(o for o in kb.offices.values() if o.kind == "card_center")
            # the overview looks the same for everyone at the same progress: rendered once per state
            cache_key = ("overview", tuple((g["done"], g["total"], g["mark"]) for g in state["groups"]), state["complete"])
            values = {
                "onsite": kb.facts["onsite"],
                "center": center,
                "notice": None,
                "page": None,
                "cache_key": cache_key,
                **state,
            }
            hit = self._states[key] = (state, values)
        return hit

    def _state(self, topic: str, lang: str, ticks: frozenset[str], na: frozenset[str]) -> dict[str, Any]:
        materials = self._layout(topic, lang)[1]
        rows = self._rows(topic, lang, ticks, na)  # 不适用: only an optional item, then counted in neither
        groups = []
        for material, name, positions in materials:
            members = [rows[i] for i in positions]
            counted = [r for r in members if not r["na"]]
            done_here = sum(r["ticked"] for r in counted)
            complete_here = all(r["ticked"] for r in counted if r["required"])
            mark = "➖" if not counted else "✅" if complete_here and done_here else "☐"
            groups.append(
                {
                    "material": material,
                    "name": name,
                    "rows": members,
                    "done": done_here,
                    "total": len(counted),
                    "mark": mark,
                    "na": not counted,
                }
            )
        counted = [r for r in rows if not r["na"]]
        done = sum(r["ticked"] for r in counted)
        complete = all(r["ticked"] for r in counted if r["required"])
        business = self.kb.businesses[topic]
        siblings = [b for b in self.kb.topics_in(business.category) if b.id != topic]
        notes, material_notes = self.notes(topic, lang)
        return {
            "business": business,
            "items": rows,
            "groups": groups,
            "done": done,
            "total": len(counted),
            "not_applicable": len(rows) - len(counted),
            "notes": notes,
            "material_notes": material_notes,
            "complete": complete,
            "bar": progress_bar(done, len(counted)),
            "siblings": siblings,
        }

    def export_text(self, ctx: Context, topic: str) -> str:
        """A printable plain-text checklist with the office and hotline."""
        values = {
            **self.engine.base_values(),
            **self.screen_values(ctx, topic),
            "offices": list(self.kb.offices.values()),
            "lang": ctx.lang,
        }
        return environment(ctx.lang, html=False).get_template("checklist_export.j2").render(values).strip() + "\n"

    def sync(self, ctx: Context, topic: str) -> dict[str, Any]:
        """The step before a checklist screen (it writes): drop the ticks of items the knowledge no
        longer has, and take the pending notice saying so — ``{"notice": …}`` once, else ``{}``."""
        if topic not in self.kb.businesses:
            return {}
        user_id = ctx.user_id or 0
        ids = self._layout(topic, ctx.lang)[2]
        marks = self._take_read_ahead(user_id, topic)  # read back with a mark just made (``mark_and_draw``)
        if marks is None:
            marks = self.store.checklist_marks(user_id, topic)  # ticks, 不适用 marks, notice: one read
        ticks, _, notice = marks
        if ticks <= ids and not notice:  # nothing to drop or to say (nearly always): the screen reuses the read
            self._read_ahead = (threading.get_ident(), user_id, topic, self.store.changes(), marks)
            return {}
        if not ticks <= ids:
            self.store.sync_items(user_id, topic, ids)
        dropped = self.store.take_notice(user_id, topic)
        if not dropped:
            return {}
        n = len(json.loads(dropped))
        return {"notice": self._("官方资料已更新，清单随之更新：%(n)s 个已勾选的项目不再需要，已移除。", ctx) % {"n": n}}

    def _take_read_ahead(self, user_id: int, topic: str) -> tuple[set[str], set[str], str | None] | None:
        """The user's marks on the checklist handed on by the step before (``sync``) or by the mark just made
        (``mark_and_draw``), if for this thread, user and checklist with nothing written since; taken once."""
        ahead, self._read_ahead = self._read_ahead, None
        if ahead is not None and ahead[:4] == (threading.get_ident(), user_id, topic, self.store.changes()):
            return ahead[4]
        return None

    def mark_and_draw(self, ctx: Context, kind: str, topic: str, item_id: str, on: bool) -> None:
        """A tick (kind "tick") or 不适用 mark (kind "na") of a checklist button, committed before we answer; the
        marks are read back in its transaction and handed to the checklist screen drawn next (no second read)."""
        user_id = ctx.user_id or 0
        marks = self.store.mark_and_read(kind, user_id, topic, item_id, on)
        self._read_ahead = (threading.get_ident(), user_id, topic, self.store.changes(), marks)

    def screen_values(self, ctx: Context, topic: str) -> dict[str, Any]:
        """The checklist screen's variables (and the export's): the items and the office (the notice
        that ticks were dropped comes from ``sync``, the step before the screen). Shared: not to be changed."""
        return self._marked(ctx.user_id or 0, topic, ctx)[1]

    def page_values(self, ctx: Context, topic: str, material: str) -> dict[str, Any]:
        """One material's page: its items with a tick button each, and the overall progress."""
        values = self.screen_values(ctx, topic)
        groups = values["groups"]
        at = next((i for i, g in enumerate(groups) if g["material"] == material), None)
        if at is None:
            raise NotFound(f"{topic}:{material}")
        page = {
            **groups[at],
            "notes": values["material_notes"].get(material, []),
            "tick_rows": [r for r in groups[at]["rows"] if not r["na"]],  # a 不适用 item has no tick button
            "na_rows": [r for r in groups[at]["rows"] if r["optional"]],
        }  # … and each optional one a 不适用 button
        key = ("page", tuple((r["ticked"], r["na"]) for r in page["rows"]), values["done"], values["total"], values["complete"])
        return {
            **values,
            "page": page,
            "cache_key": key,
            "prev": groups[at - 1]["material"] if at > 0 else None,
            "next": groups[at + 1]["material"] if at + 1 < len(groups) else None,
        }

    def mark(self, ctx: Context, action: str, args: str) -> dict[str, Any]:
        """A tick or 不适用 from a page that draws its own checklist (the web page's script): ``action``
        "tick" or "na" with the buttons' arguments ("topic:item:1" sets, ":0" undoes), validated and
        stored as the buttons do (committed before we answer), then only the progress, read back:
        ``done``, ``total``, ``not_applicable`` and per material (``groups``: (material, (done, total,
        all 不适用)) pairs in the checklist's order), and the ``toast``. No screen is drawn. Raises NotFound as
        the buttons do."""
        topic, item_id, wanted = args.split(":") if args.count(":") == 2 else ("", "", "")
        if wanted not in ("0", "1") or action not in ("tick", "na") or topic not in self.kb.businesses:
            raise NotFound(args)
        _, materials, ids = self._layout(topic, ctx.lang)
        optional = self._optional[topic]  # made with the layout
        if item_id not in optional or (action == "na" and not optional[item_id]):  # only what the screens offer 不适用 for
            raise NotFound(args)
        user_id, on = ctx.user_id or 0, wanted == "1"
        ticks, na, _ = self.store.mark_and_read(action, user_id, topic, item_id, on)  # one commit, read back in it
        if action == "tick":
            toast = self._("已勾选", ctx) if on else self._("已取消勾选", ctx)
        else:
            toast = self._("已标为不适用", ctx) if on else self._("已恢复为适用", ctx)
        key = (topic, frozenset(ticks & ids), frozenset(na & ids))
        counted = self._progress.get(key)
        if counted is None:  # counted as ``state`` counts them
            rows = self._rows(topic, ctx.lang, ticks, na)
            groups: list[tuple[str, tuple[int, int, bool]]] = []
            done = total = 0
            for material, _, positions in materials:
                done_here = total_here = 0
                for i in positions:
                    if not rows[i]["na"]:
                        total_here += 1
                        done_here += rows[i]["ticked"]
                groups.append((material, (done_here, total_here, not total_here)))
                done, total = done + done_here, total + total_here
            if len(self._progress) >= PROGRESS_MAX:
                self._progress.clear()
            counted = self._progress[key] = (done, total, len(rows) - total, tuple(groups))
        done, total, not_applicable, groups = counted
        return {"done": done, "total": total, "not_applicable": not_applicable, "toast": toast, "groups": groups}

    def _(self, message: str, ctx: Context) -> str:
        return t(message, ctx)
