"""TELEGRAM_PROXY: every Bot API call and file download goes through the proxy."""

from __future__ import annotations

import pytest

from .conftest import running_bot
from .local_proxy import HttpProxy, Socks5Proxy

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2000


async def converse(fake) -> None:
    user = fake.user()
    menu = await user.send("/start")
    await user.click(menu, "补办业务")
    assert "丢失补办" in menu.labels
    reply = await user.send_document(JPEG, "licence.jpg", "image/jpeg")  # getFile + a file download
    assert "licence.jpg" in reply.plain or "jpg" in reply.plain.lower()


def api_paths(fake) -> list[str]:
    return [method for method, _, _ in fake.requests]


PROXIES = {  # a proxy, and TELEGRAM_PROXY for it
    "http": (HttpProxy, "http://127.0.0.1:{port}"),
    "socks5 with a password": (lambda: Socks5Proxy("eport", "pa55word"), "socks5://eport:pa55word@127.0.0.1:{port}"),
}


@pytest.mark.parametrize("kind", PROXIES)
async def test_every_call_and_download_goes_through_the_proxy(fake, tmp_path, kind):
    make, address = PROXIES[kind]
    async with make() as proxy:
        async with running_bot(fake, tmp_path / "p.db", proxy=address.format(port=proxy.port)):
            await converse(fake)
        carried = [p.rsplit("/", 1)[-1].lower() for p in proxy.requests if p.startswith("/bot")]
        downloads = [p for p in proxy.requests if p.startswith("/file/bot")]
    assert carried == api_paths(fake)  # every Bot API call, in order, and nothing went around the proxy
    assert {"getme", "setmycommands", "getupdates", "sendmessage", "editmessagetext", "getfile"} <= set(carried)
    assert len(downloads) == 1 and proxy.refused == 0


def telegram_env(fake, proxy_url: str, db) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_PROXY": proxy_url,
        "EPORT_GUIDE_DB": str(db),
    }


async def test_a_refusing_proxy_means_no_request_reaches_telegram(fake, tmp_path, eport_guide):
    async with Socks5Proxy("eport", "right") as proxy:
        env = telegram_env(fake, f"socks5://eport:wrong@127.0.0.1:{proxy.port}", tmp_path / "h.db")
        health = await eport_guide.beside_the_loop("health", "--online", env=env)
    assert proxy.refused >= 1 and not fake.requests
    assert health.returncode == 1  # the database does not exist yet: a local failure wins
    assert "FAIL  telegram: Bot API unreachable via TELEGRAM_PROXY" in health.stdout


@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_health_online_asks_telegram_through_the_proxy(fake, tmp_path, scheme, eport_guide):
    from dialogs.store import Store

    db = tmp_path / "ok.db"
    Store(db).close()
    async with HttpProxy() if scheme == "http" else Socks5Proxy() as proxy:
        health = await eport_guide.beside_the_loop(
            "health", "--online", env=telegram_env(fake, f"{scheme}://127.0.0.1:{proxy.port}", db)
        )
    assert health.returncode == 0, health.stdout + health.stderr
    assert "ok    telegram: getMe answered: @eport_guide_test_bot" in health.stdout
    assert [p.rsplit("/", 1)[-1] for p in proxy.requests] == ["getMe"] and api_paths(fake) == ["getme"]


def test_the_proxy_password_and_the_webhook_secret_are_redacted_from_logs(monkeypatch, capsys, tmp_path):
    import logging

    import bot.app
    from bot import cli

    def fake_run(settings):
        logging.getLogger("eport_guide.bot").warning("proxy %s, secret %s", settings.proxy, settings.webhook_secret)
        return 0

    monkeypatch.setattr(bot.app, "run", fake_run)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:" + "a" * 35)
    monkeypatch.setenv("TELEGRAM_PROXY", "socks5://eport:Pr0xyPassw0rd@127.0.0.1:1080")
    monkeypatch.setenv("EPORT_GUIDE_WEBHOOK_SECRET", "WebhookSecret_123")
    try:
        code = cli.main(["run", "--webhook-url", "https://bot.example.org/telegram", "--db", str(tmp_path / "r.db")])
    finally:
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_eport_guide", False):
                logging.getLogger().removeHandler(handler)
    err = capsys.readouterr().err
    assert code == 0 and "proxy socks5://eport:<token>@127.0.0.1:1080, secret <token>" in err
    assert "Pr0xyPassw0rd" not in err and "WebhookSecret_123" not in err
