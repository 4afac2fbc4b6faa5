"""The console channel (`eport-guide chat`): the same screens as Telegram, as plain text with
numbered buttons; the same commands (dialogs.commands) and the same language resolution
(``Guide.language``) as every channel."""

from __future__ import annotations

import sys
from typing import TextIO

from . import commands
from .engine import Button, Context, Screen
from .guide import Guide
from .i18n import t

HELP = "输入按钮编号或按钮文字；/start [业务代码]、/menu、/checklist、/help，或直接输入问题；/quit 退出。"
UNKNOWN_COMMAND = "未知命令 /%(command)s。"
NO_SUCH_BUTTON = "没有编号为 %(n)s 的按钮。"
GOODBYE = "再见！"
OPEN_URL = "请在浏览器打开：%(url)s"
MAX_INPUT = 4096


def format_screen(screen: Screen) -> str:
    """A screen as the console shows it: its text, then its buttons numbered."""
    lines = [screen.text, ""]
    for n, button in enumerate(screen.all_buttons(), 1):
        extra = ""
        if button.url:
            extra = f"  → {button.url}"
        elif button.copy_text and button.copy_text not in button.label:
            extra = f"  ⧉ {button.copy_text}"  # the label does not show the whole text
        lines.append(f"  [{n}] {button.label}{extra}")
    return "\n".join(lines).rstrip() + "\n"


def find_button(screen: Screen, answer: str) -> Button | None:
    """The button a typed line names: its number or its label; None for none."""
    buttons = screen.all_buttons()
    if answer.isdigit():
        n = int(answer)
        return buttons[n - 1] if 1 <= n <= len(buttons) else None
    for b in buttons:
        if b.label == answer:
            return b
    matches = [b for b in buttons if answer and answer in b.label]
    return matches[0] if len(matches) == 1 else None


class ConsoleChat:
    """One user's conversation; ``step`` takes a line and returns the next screen (or a line of text).

    ``client_lang`` plays the part of Telegram's language_code: the user's choice in /language wins."""

    def __init__(self, guide: Guide, user_id: int | None = 0, client_lang: str | None = None):
        self.guide = guide
        self.engine = guide.engine
        self.user_id = user_id
        self.client_lang = client_lang
        self.screen = self.engine.start(self.ctx)

    @property
    def ctx(self) -> Context:
        """Who is asking, in the language resolved now (a /language choice applies from the next line)."""
        return Context(user_id=self.user_id, lang=self.guide.language(self.user_id, self.client_lang))

    def _(self, message: str) -> str:
        return t(message, self.ctx)

    def step(self, line: str) -> Screen | str | None:
        """One typed line answered: a command, a button (number or label), or free text — the screen,
        or a line of text to print; None for an empty line; EOFError for /quit."""
        line = line.strip()[:MAX_INPUT]
        if not line:
            return None
        if line in ("/quit", "/exit", "/q"):
            raise EOFError
        ctx = self.ctx
        if line.startswith("/"):
            command, _, arg = line[1:].partition(" ")
            screen = commands.answer(self.engine, ctx, command.lower(), arg)
            if screen is None:
                return self._(UNKNOWN_COMMAND) % {"command": command.lower()} + self._(HELP)
            self.screen = screen
            return screen
        button = find_button(self.screen, line)
        if button is not None:
            if button.data:
                self.screen = self.engine.handle(ctx, button.data)
                return self.screen
            if button.url:
                return self._(OPEN_URL) % {"url": button.url}
            if button.copy_text:
                return button.copy_text
            return None
        if line.isdigit():
            return self._(NO_SUCH_BUTTON) % {"n": line} + self._(HELP)
        awaiting = self.screen.awaiting
        self.screen = self.engine.reply(ctx, awaiting, line) if awaiting else self.engine.ask(ctx, line)
        return self.screen


def run_console(
    guide: Guide,
    user_id: int | None = 0,
    client_lang: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    # the streams of the moment, not of import time: the CLI wraps stdout in the token redaction
    """The console conversation on ``stdin``/``stdout`` until /quit or the end of input."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    chat = ConsoleChat(guide, user_id, client_lang)
    interactive = stdin.isatty()
    stdout.write(format_screen(chat.screen))
    stdout.write(f"\n({chat._(HELP)})\n")
    while True:
        if interactive:
            stdout.write("> ")
        stdout.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            break
        if not line:
            break
        if not interactive:
            stdout.write(f"> {line.rstrip()}\n")
        try:
            out = chat.step(line)
        except EOFError:
            break
        if isinstance(out, Screen):
            if out.toast:
                stdout.write(f"〔{out.toast}〕\n")
            if out.document:
                name, content = out.document
                stdout.write(f"\n--- {name} ---\n{content.decode('utf-8')}--- end of {name} ---\n")
            stdout.write("\n" + format_screen(out))
            if out.photo is not None:  # a picture the terminal cannot show: how staff get it
                p = out.photo
                stdout.write(f"🖼 eport-guide picture {p.material} --lang {p.lang} --out {p.material}.png\n")
        elif out:
            stdout.write(out + "\n")
    stdout.write(chat._(GOODBYE) + "\n")
    stdout.flush()
    return 0
