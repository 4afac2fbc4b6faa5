"""The shape of the house (issue 16): screens.yaml leads to every template, data function and
action; one application object; one language resolver; one command table; old buttons answered."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from dialogs import commands
from dialogs.console import ConsoleChat
from dialogs.engine import Context, Engine, callback_data, parse_callback
from dialogs.features import ENGINE, resolve
from dialogs.guide import build_guide

from .conftest import running_bot

DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"
SPEC = yaml.safe_load((DIALOGS / "screens.yaml").read_text(encoding="utf-8"))


def button_actions(buttons) -> set[str]:
    """The actions a screen's buttons send: "go" for navigation, the `do:` names."""
    out: set[str] = set()
    for spec in buttons or []:
        for b in spec.get("row", [spec]):
            if "go" in b:
                out.add("go")
            if "do" in b:
                out.add(b["do"])
    return out


def names_a_function(name: str) -> bool:
    if name.startswith(f"{ENGINE}."):
        return callable(getattr(Engine, name.split(".", 1)[1], None))
    return callable(resolve(name))


@pytest.mark.parametrize("screen", sorted(SPEC["screens"]))
def test_every_screen_names_its_template_data_function_and_actions(screen):
    """From screens.yaml alone: the template file, the feature function that fills it, and for each
    button an action declared under `actions:` whose function exists."""
    spec = SPEC["screens"][screen]
    assert (DIALOGS / "templates" / spec["template"]).is_file(), spec["template"]
    assert names_a_function(spec["data"]), spec["data"]
    if "before" in spec:
        assert names_a_function(spec["before"]), spec["before"]
    for action in button_actions(spec.get("buttons")):
        declared = SPEC["actions"].get(action)
        assert declared is not None and "do" in declared, f"{screen}: action {action!r} is not declared with its function"
        assert names_a_function(declared["do"]), declared["do"]


def test_every_action_input_and_listener_names_an_existing_function():
    for name, spec in SPEC["actions"].items():
        if "alias" in spec:  # old callback data: answered as the action it names
            assert "do" in SPEC["actions"][spec["alias"]], name
        else:
            assert names_a_function(spec["do"]), name
    for name, spec in SPEC["inputs"].items():
        assert names_a_function(spec["do"]), name
    for spec in SPEC["listeners"]:
        assert names_a_function(spec["do"]), spec


def test_a_screen_naming_a_missing_function_stops_the_start_up():
    with pytest.raises(ValueError, match="does not exist"):
        resolve("checklist.no_such_function")
    with pytest.raises(ValueError):
        resolve("../store.Store")


def test_the_engine_imports_no_feature_and_no_channel():
    """The engine parses, dispatches and renders: features are handed to it, never imported."""
    tree = ast.parse((DIALOGS / "engine.py").read_text(encoding="utf-8"))
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert not any("features" in m or "telegram" in m or m.startswith("bot") for m in imported), imported


def test_the_application_object_carries_the_store_not_the_engine(guide, kb):
    assert guide.store is not None and guide.checklists is not None and guide.kb is kb
    for attribute in ("store", "checklists", "settings"):
        assert not hasattr(guide.engine, attribute)


# -- one language resolver ------------------------------------------------------------------------
def test_console_language_choice_applies_to_the_next_command(guide):
    """The bug: in `eport-guide chat`, choose English in /language, then /menu answered in Chinese."""
    chat = ConsoleChat(guide, user_id=7)
    chat.step("/language")
    settings = chat.step("English")
    assert "Settings" in settings.text
    menu = chat.step("/menu")
    assert "Choose the service" in menu.text and "请选择要办理的业务" not in menu.text
    assert "Main menu" in chat.step("/help").all_buttons()[-1].label
    # a new session of the same user keeps the choice, whatever --lang says
    again = ConsoleChat(guide, user_id=7, client_lang="ru")
    assert "Choose the service" in again.screen.text
    # another user without a choice reads the client's language
    other = ConsoleChat(guide, user_id=8, client_lang="ru")
    assert "Выберите" in other.screen.text


def test_the_resolver_prefers_the_choice_then_the_client_then_chinese(guide):
    assert guide.language(5, "en-US") == "en"
    guide.store.set_language(5, "ru")
    assert guide.language(5, "en-US") == "ru"
    assert guide.language(None, "xx") == "zh"
    guide.store.close()  # a database that fails is "unknown", never an error
    assert guide.language(5, "en") == "en"


async def test_inline_answers_follow_the_language_the_user_chose(fake, tmp_path):
    async with running_bot(fake, tmp_path / "i.db") as app:
        user = fake.user(id=71, language_code="zh-hans")
        app.bot_data["guide"].store.set_language(71, "en")
        answer = await user.inline_query("丢失")
        assert answer["results"][0]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Full answer in the bot"
        assert answer["is_personal"] is True


# -- one command table ------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [c.name for c in commands.COMMANDS])
def test_every_command_is_answered_the_same_in_the_console(guide, command):
    chat = ConsoleChat(guide, user_id=9)
    screen = chat.step(f"/{command}")
    expected = commands.answer(guide.engine, chat.ctx, command)
    assert screen.route == expected.route and screen.text == expected.text


async def test_telegram_registers_exactly_the_command_table(fake, tmp_path):
    from telegram.ext import CommandHandler

    async with running_bot(fake, tmp_path / "t.db") as app:
        registered = {c for group in app.handlers.values() for h in group if isinstance(h, CommandHandler) for c in h.commands}
        assert {c.name for c in commands.COMMANDS} <= registered
        assert registered - {c.name for c in commands.COMMANDS} == {"stats", "reload"}  # the admins' own
        menu = fake.calls("setMyCommands")[0]
        import json

        listed = menu["commands"] if isinstance(menu["commands"], list) else json.loads(menu["commands"])
        assert [c["command"] for c in listed] == [c.name for c in commands.COMMANDS]


# -- readable action names; old buttons still answered ------------------------------------------------
def test_buttons_use_readable_action_names(guide):
    ctx = Context(user_id=11)
    engine = guide.engine
    topic = engine.render("more:unlock", ctx)  # 👍/👎 are behind ⋯ 更多
    checklist = engine.handle(ctx, callback_data("checklist_open", "unlock"))
    page = engine.handle(ctx, callback_data("go", "checklist_part:unlock:agent_id"))  # a material's tick buttons
    actions = {parse_callback(b.data)[0] for s in (topic, checklist, page) for b in s.all_buttons() if b.data}
    assert {"go", "tick", "feedback"} <= actions and not actions & {"g", "t", "fb", "x"}


def test_old_callback_data_is_still_answered(guide):
    engine, ctx = guide.engine, Context(user_id=12)
    assert engine.handle(ctx, "e1|g|topic:unlock").route == "topic:unlock"
    engine.handle(ctx, callback_data("checklist_open", "unlock"))
    ticked = engine.handle(ctx, "e1|t|unlock:agent_id.copy:1")
    assert ticked.toast == "已勾选" and guide.store.ticks(12, "unlock") == {"agent_id.copy"}
    thanks = engine.handle(ctx, "e1|fb|unlock:1")
    assert thanks.toast == "感谢反馈！"
    old_toggle = engine.handle(ctx, "e1|x|unlock:agent_id.copy")
    assert guide.store.ticks(12, "unlock") == {"agent_id.copy"} and "已过期" in old_toggle.toast
    # an alias has the access of the action it names: a tick from a group opens nothing personal
    group = engine.handle(Context(user_id=12, chat="group"), "e1|t|unlock:agent_id.copy:0")
    assert group.route == "private_only" and guide.store.ticks(12, "unlock") == {"agent_id.copy"}


@pytest.mark.parametrize(
    "channel, on, off",
    [
        ("telegram", {"inline", "reminders", "checklist"}, set()),
        ("web", {"checklist", "feedback"}, {"reminders", "inline"}),
        ("console", {"checklist", "reminders"}, {"inline"}),
    ],
)
def test_build_guide_decides_each_channels_features(tmp_path, kb, channel, on, off):
    guide = build_guide(tmp_path / "c.db", kb=kb, channel=channel)
    try:
        assert on <= guide.engine.features and not off & guide.engine.features
    finally:
        guide.close()
    with pytest.raises(ValueError, match="unknown channel"):
        build_guide(tmp_path / "c.db", kb=kb, channel="fax")


def test_a_channel_can_leave_reminders_off(tmp_path, kb):
    guide = build_guide(tmp_path / "r.db", kb=kb, channel="web")
    try:
        ctx = Context(user_id=13)
        assert "reminders" not in guide.engine.features and "checklist" in guide.engine.features
        assert guide.engine.handle(ctx, callback_data("remind", "refund")).stale
        assert guide.engine.handle(ctx, callback_data("go", "reminders")).stale
        assert not any(b.data and "remind" in b.data for b in guide.engine.render("topic:renew_cert", ctx).all_buttons())
    finally:
        guide.close()


async def test_telegram_screens_errors_and_reminders_follow_the_chosen_language(fake, tmp_path, monkeypatch):
    """One resolver in every place Telegram answers: a user whose Telegram is Chinese but who chose
    English reads English screens, English error replies and English reminders."""
    import datetime as dt

    from dialogs.features.reminders import at_nine

    async with running_bot(fake, tmp_path / "e.db") as app:
        guide = app.bot_data["guide"]
        user = fake.user(id=72, language_code="zh-hans")
        settings = await user.send("/language")
        await user.click(settings, "English")
        assert "Choose the service" in (await user.send("/menu")).plain

        def broken(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(guide.engine, "ask", broken)
        reply = await user.send("卡丢了怎么办")
        assert "Manzhouli card centre hotline" in reply.plain and "出错了" not in reply.plain
        monkeypatch.undo()

        due = at_nine(dt.date(2026, 11, 30))
        guide.engine.clock = lambda: due - dt.timedelta(seconds=0.5)
        ask = await user.send("/reminders")
        await user.click(ask, "➕ Returned application (退单) reminder")
        await user.send("2026-11-24")
        await fake.wait_for(
            lambda: any("the last day to resubmit is 2026-11-30" in m.plain for m in user.messages[-1:]),
            timeout=5,
            what="the reminder in English",
        )


def test_no_private_name_of_another_module_or_library_is_used():
    """Only public doors: a name with a leading underscore is reached through ``self``/``cls`` or
    in the module that defines it — never ``bot._post`` (python-telegram-bot has public calls) or
    ``store._read`` from another package (translations: ``dialogs.i18n.t``, not ``engine._``)."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for package in ("bot", "dialogs", "knowledge", "web"):
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
            own |= {
                t.attr
                for n in ast.walk(tree)
                if isinstance(n, (ast.Assign, ast.AnnAssign))
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                if isinstance(t, ast.Attribute)
            }
            for n in ast.walk(tree):
                if (
                    isinstance(n, ast.Attribute)
                    and n.attr.startswith("_")
                    and not n.attr.startswith("__")
                    and n.attr not in own
                    and not (isinstance(n.value, ast.Name) and n.value.id in ("self", "cls"))
                ):
                    found.append(f"{path.relative_to(root)}:{n.lineno}: {ast.unparse(n)}")
    assert not found, "\n".join(found)


# -- the doors between packages (measured from the code's own imports) -------------------------------
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs", "knowledge", "web")
CHANNELS = ("bot", "web")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str], bool]]:
    """(module, names taken from it, whether the import runs when the module is loaded) for each
    import of ``path``; relative imports resolved, ``from pkg import mod`` read as ``pkg.mod``.
    Imports under ``if TYPE_CHECKING:`` and inside functions do not run at load."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    at_load: set[int] = set()

    def top(body):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                at_load.add(id(node))
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                top(node.body)
                top(node.orelse)
            elif isinstance(node, ast.Try):
                top(node.body)

    top(tree.body)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], id(node) in at_load) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                sub = f"{base}.{a.name}"
                if (ROOT / Path(*sub.split("."))).with_suffix(".py").is_file() or (ROOT / Path(*sub.split("."))).is_dir():
                    out.append((sub, [], id(node) in at_load))  # a module of the package
                else:
                    out.append((base, [a.name], id(node) in at_load))
    return out


def sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path


def test_no_private_name_is_imported_from_another_package():
    """``from x import _y`` only within one package (``knowledge.overlay`` may use ``knowledge.loader``'s
    helpers); never from another of ours or from a library."""
    found = []
    for path in sources():
        own = module_name(path).split(".")[0]
        for module, names, _ in imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            private += [p for p in module.split(".") if p.startswith("_") and not p.startswith("__")]
            if private and module.split(".")[0] != own:
                found.append(f"{path.relative_to(ROOT)}: {module} {private}")
    assert not found, "\n".join(found)


def test_channels_import_only_the_guide_and_the_declared_public_modules():
    """bot/ and web/ reach the dialogs through dialogs.guide and the modules dialogs.PUBLIC and
    knowledge.PUBLIC declare — never a feature module, the reader or the matcher."""
    import dialogs
    import knowledge

    allowed = {*dialogs.PUBLIC, *knowledge.PUBLIC, "dialogs"}
    found = []
    for package in CHANNELS:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module, _, _ in imports(path):
                if module.split(".")[0] in ("dialogs", "knowledge") and module not in allowed:
                    found.append(f"{path.relative_to(ROOT)}: {module}")
    assert not found, "\n".join(found)
    assert "dialogs.guide" in dialogs.PUBLIC and not any("features" in m for m in dialogs.PUBLIC)


def test_no_import_circle_when_the_modules_load():
    """The modules of bot/, dialogs/, knowledge/ and web/ import one another, at load, without a circle
    (a circle makes the import order matter and breaks on the first reordering)."""
    ours = {module_name(p): p for p in sources()}
    graph = {m: {t for t, _, at_load in imports(p) if at_load and t in ours and t != m} for m, p in ours.items()}
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        seen[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if seen.get(t) == 1:
                return path[path.index(t) :] + [t]
            if t not in seen and (circle := visit(t)):
                return circle
        seen[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in seen and (circle := visit(m)):
            raise AssertionError(" -> ".join(circle))


# Methods a framework calls by name (tornado handlers, logging, HTMLParser, python-telegram-bot
# handlers, yaml loaders): documented by the framework.
FRAMEWORK_HOOKS = {
    "get",
    "post",
    "prepare",
    "initialize",
    "data_received",
    "write_error",
    "log_exception",
    "set_default_headers",
    "on_finish",
    "filter",
    "format",
    "write",
    "writelines",
    "flush",
    "handle_starttag",
    "handle_endtag",
    "handle_data",
    "check_update",
    "compose_node",
}


def test_every_public_function_and_class_says_what_it_does():
    """A docstring on every public function, class and method of a public class in bot/, dialogs/,
    knowledge/ and web/ (a name without a leading underscore), so the house reads without the code."""
    missing = []
    for path in sources():
        where = str(path.relative_to(ROOT))

        def visit(node, prefix=""):
            for n in ast.iter_child_nodes(node):
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not n.name.startswith("_"):
                    hook = prefix and n.name in FRAMEWORK_HOOKS
                    if not hook and ast.get_docstring(n) is None:
                        missing.append(f"{where}:{n.lineno}: {prefix}{n.name}")
                    if isinstance(n, ast.ClassDef):
                        visit(n, f"{prefix}{n.name}.")

        visit(ast.parse(path.read_text(encoding="utf-8")))
    assert not missing, "\n".join(missing)


def test_data_functions_only_read_and_the_declared_step_writes(tmp_path, kb):
    """A data function fills a template and writes nothing, even for a checklist whose stored ticks
    the knowledge no longer has; the step screens.yaml names (``before:``) drops them and says so once."""
    from dialogs.routes import Route, all_routes

    guide = build_guide(tmp_path / "ro.db", kb=kb)
    try:
        ctx = Context(user_id=21, admin=True)
        guide.store.tick(21, "unlock", "gone_from_the_knowledge.copy", True)  # a tick of a removed item
        conn = guide.store.conn
        before = conn.total_changes
        for route in [*all_routes(guide.engine), "stats", "missed"]:
            parsed = Route.parse(route)
            guide.engine.data[parsed.screen](ctx, parsed)
        assert conn.total_changes == before
        assert guide.store.ticks(21, "unlock") == {"gone_from_the_knowledge.copy"}
        assert "更新" in guide.engine.render("checklist:unlock", ctx).text  # the step ran: notice, tick dropped
        assert guide.store.ticks(21, "unlock") == set()
        assert "更新" not in guide.engine.render("checklist:unlock", ctx).text  # once
    finally:
        guide.close()
