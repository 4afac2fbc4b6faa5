"""Per-user checklists: the screens and the button actions (the lists themselves: ``dialogs.checklists``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..engine import Context, NotFound, Screen
from ..i18n import t
from ..routes import Route
from ._shared import App


# -- screens ----------------------------------------------------------------------------------
def sync(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The step before a checklist screen (screens.yaml ``before:``; data functions only read):
    stale ticks dropped, the "list updated" notice taken."""
    return guide.checklists.sync(ctx, route.param(0))


def checklist(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The checklist of a business (``checklist:<business>``)."""
    arg = route.arg
    return guide.checklists.screen_values(ctx, arg or "")


def part(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """A material's page of a checklist ("<business>:<material>")."""
    topic, material = route.params if len(route.params) == 2 else ("", "")
    return guide.checklists.page_values(ctx, topic, material)


def reset_screen(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
    """The reset confirmation of a checklist."""
    arg = route.arg
    return guide.checklists.state(ctx.user_id or 0, arg or "", ctx)


def checklists(guide: App, ctx: Context, route: Route, text: str | None = None) -> dict[str, Any]:
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
def open_(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """📋 加入清单: open (or reopen) the checklist of a business."""
    args = route.arg or ""
    if args not in guide.kb.businesses:
        raise NotFound(args)
    guide.store.open_checklist(ctx.user_id or 0, args, event="checklist_open", event_user=ctx.user_id)  # one commit
    return guide.engine.render(Route("checklist", (args,)), ctx)


def _item_ids(guide: App, topic: str) -> set[str]:
    return {i.id for i in guide.kb.checklist_items(topic)}


def tick(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """A tick button carries the state the user wants ("topic:item:1" ticks, ":0" unticks), so a
    retried press (e.g. after an edit that failed) never undoes the first one."""
    args = route.arg or ""
    topic, item_id, wanted = route.params if len(route.params) == 3 else ("", "", "")
    if wanted not in ("0", "1") or topic not in guide.kb.businesses or item_id not in _item_ids(guide, topic):
        raise NotFound(args)
    guide.checklists.mark_and_draw(ctx, "tick", topic, item_id, wanted == "1")  # committed before we answer
    screen = guide.engine.render(Route("checklist_part", (topic, item_id.split(".", 1)[0])), ctx)
    return guide.engine.with_toast(screen, t("已勾选", ctx) if wanted == "1" else t("已取消勾选", ctx))


def not_applicable(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """不适用 on an optional item ("topic:item:1" marks it, ":0" undoes it): it stops counting
    against the progress. Stored per user, like ticks, before we answer."""
    args = route.arg or ""
    topic, item_id, wanted = route.params if len(route.params) == 3 else ("", "", "")
    items = {i.id: i for i in guide.kb.checklist_items(topic)} if topic in guide.kb.businesses else {}
    item = items.get(item_id)
    if wanted not in ("0", "1") or item is None or not item.optional or item.condition is not None:
        raise NotFound(args)
    guide.checklists.mark_and_draw(ctx, "na", topic, item_id, wanted == "1")  # committed before we answer
    screen = guide.engine.render(Route("checklist_part", (topic, item.material)), ctx)
    return guide.engine.with_toast(screen, t("已标为不适用", ctx) if wanted == "1" else t("已恢复为适用", ctx))


def old_toggle(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Buttons sent before ticks carried their state ("x|topic:item", a toggle): show the list as
    it is, change nothing (a retried toggle would undo the first press)."""
    args = route.arg or ""
    topic, item_id = route.params if len(route.params) == 2 else ("", "")
    if topic not in guide.kb.businesses or item_id not in _item_ids(guide, topic):
        raise NotFound(args)
    screen = guide.engine.render(Route("checklist_part", (topic, item_id.split(".", 1)[0])), ctx)
    return replace(screen, toast=t("这个按钮已过期，清单已刷新，请再点一次", ctx))


def switch(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Change the business (e.g. 丢失补办 → 超期补办), keeping the ticks both share."""
    args = route.arg or ""
    source, target = route.params if len(route.params) == 2 else ("", "")
    kb = guide.kb
    if source not in kb.businesses or target not in kb.businesses:
        raise NotFound(args)
    kept = guide.store.copy_ticks(ctx.user_id or 0, source, target, [i.id for i in kb.checklist_items(target)])
    optional = {i.id for i in kb.checklist_items(target) if i.optional and i.condition is None}
    for item_id in guide.store.not_applicable(ctx.user_id or 0, source) & optional:  # 不适用 carries over too
        guide.store.mark_not_applicable(ctx.user_id or 0, target, item_id, True)
    screen = guide.engine.render(Route("checklist", (target,)), ctx)
    return replace(screen, toast=t("已切换，保留了 %(n)s 个共同项目的勾选", ctx) % {"n": kept})


def ask_reset(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Reset pressed: ask for confirmation."""
    args = route.arg or ""
    return guide.engine.render(Route("checklist_reset", (args,)), ctx)


def reset(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """Reset confirmed (only by the user it was shown to): every tick and 不适用 removed."""
    args = route.arg or ""
    topic, owner = route.params if len(route.params) == 2 else ("", "")
    if topic not in guide.kb.businesses or owner != str(ctx.user_id):  # bound to the user it was shown to
        raise NotFound(args)
    guide.store.reset_checklist(ctx.user_id or 0, topic)
    guide.store.clear_not_applicable(ctx.user_id or 0, topic)
    return replace(guide.engine.render(Route("checklist", (topic,)), ctx), toast=t("清单已重置", ctx))


def export(guide: App, ctx: Context, route: Route, text: str | None = None) -> Screen:
    """The checklist as a text file to print."""
    args = route.arg or ""
    if args not in guide.kb.businesses:
        raise NotFound(args)
    text = guide.checklists.export_text(ctx, args)
    screen = guide.engine.render(Route("checklist", (args,)), ctx)
    name = f"checklist-{args}.txt"
    return replace(screen, document=(name, text.encode("utf-8")), toast=t("清单已导出", ctx))
