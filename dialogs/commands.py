"""The commands every channel understands (Telegram's menu, the console's /commands): one table."""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import t


def N_(message: str) -> str:
    """Marks a message for translation without translating it here."""
    return message


@dataclass(frozen=True)
class Command:
    """One chat command: its name, what it opens (a route) and its menu description."""

    name: str
    description: str  # shown in Telegram's command menu and /help, translated
    route: str | None = None  # the screen it opens; None: the channel handles it (start, cancel)
    feature: str | None = None  # without this feature the command opens the main menu


COMMANDS = (
    Command("start", N_("开始 / 打开业务")),
    Command("menu", N_("主菜单"), "main"),
    Command("checklist", N_("我的材料清单"), "checklists", "checklist"),
    Command("offices", N_("办理地点与电话"), "offices"),
    Command("help", N_("使用帮助"), "help"),
    Command("settings", N_("设置：语言、提醒、删除数据"), "settings", "store"),
    Command("language", N_("界面语言"), "language", "store"),
    Command("reminders", N_("我的提醒（退单、证书到期）"), "reminders", "reminders"),
    Command("privacy", N_("隐私说明"), "privacy"),
    Command("forget", N_("删除我的数据"), "forget", "store"),
    Command("cancel", N_("取消当前操作")),
)
BY_NAME = {c.name: c for c in COMMANDS}
CANCELLED = N_("已取消。")


def route_of(command: Command, features: frozenset[str]) -> str:
    """The screen a command opens with these features on (the main menu where its feature is off)."""
    assert command.route is not None
    return command.route if command.feature is None or command.feature in features else "main"


def answer(engine, ctx, name: str, arg: str | None = None):
    """The screen a command answers with (``engine``: dialogs.engine.Engine), None for a command
    this table does not have (the channel answers it, or says it is unknown)."""
    command = BY_NAME.get(name)
    if command is None:
        return None
    if command.name == "start":
        return engine.start(ctx, arg)
    if command.name == "cancel":
        return engine.render("main", ctx, notice=t(CANCELLED, ctx))
    return engine.render(route_of(command, engine.features), ctx)
