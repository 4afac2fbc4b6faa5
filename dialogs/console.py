"""The console chat: the same screens as Telegram, as plain text with numbered buttons."""

from __future__ import annotations

import sys
from typing import TextIO

from .engine import Button, Context, Engine, Screen

HELP = "输入按钮编号或按钮文字；/start [业务代码]、/menu、/checklist、/help，或直接输入问题；/quit 退出。"
UNKNOWN_COMMAND = "未知命令 /%(command)s。"
NO_SUCH_BUTTON = "没有编号为 %(n)s 的按钮。"
GOODBYE = "再见！"
OPEN_URL = "请在浏览器打开：%(url)s"
MAX_INPUT = 4096


def format_screen(screen: Screen) -> str:
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
    """One user's conversation; ``step`` takes a line and returns the next screen."""

    def __init__(self, engine: Engine, ctx: Context):
        self.engine = engine
        self.ctx = ctx
        self.screen = engine.start(ctx)

    def _(self, message: str) -> str:
        return self.engine._(message, self.ctx)

    def step(self, line: str) -> Screen | str | None:
        line = line.strip()[:MAX_INPUT]
        if not line:
            return None
        if line in ("/quit", "/exit", "/q"):
            raise EOFError
        if line.startswith("/"):
            command, _, arg = line[1:].partition(" ")
            command = command.lower()
            if command == "start":
                self.screen = self.engine.start(self.ctx, arg)
            elif command == "menu":
                self.screen = self.engine.render("main", self.ctx)
            elif command == "help":
                self.screen = self.engine.render("help", self.ctx)
            elif command == "offices":
                self.screen = self.engine.render("offices", self.ctx)
            elif command in ("settings", "language") and "store" in self.engine.features:
                self.screen = self.engine.render(command, self.ctx)
            elif command == "privacy":
                self.screen = self.engine.render("privacy", self.ctx)
            elif command == "forget" and "store" in self.engine.features:
                self.screen = self.engine.render("forget", self.ctx)
            elif command == "checklist" and "checklist" in self.engine.features:
                self.screen = self.engine.render("checklists", self.ctx)
            else:
                return self._(UNKNOWN_COMMAND) % {"command": command} + self._(HELP)
            return self.screen
        button = find_button(self.screen, line)
        if button is not None:
            if button.data:
                self.screen = self.engine.handle(self.ctx, button.data)
                return self.screen
            if button.url:
                return self._(OPEN_URL) % {"url": button.url}
            if button.copy_text:
                return button.copy_text
            return None
        if line.isdigit():
            return self._(NO_SUCH_BUTTON) % {"n": line} + self._(HELP)
        awaiting = self.screen.awaiting
        self.screen = self.engine.reply(self.ctx, awaiting, line) if awaiting else self.engine.ask(self.ctx, line)
        return self.screen


def run_console(engine: Engine, ctx: Context, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    chat = ConsoleChat(engine, ctx)
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
        elif out:
            stdout.write(out + "\n")
    stdout.write(chat._(GOODBYE) + "\n")
    stdout.flush()
    return 0
