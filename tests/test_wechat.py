"""The WeChat Official Account channel (/wechat) against a fake of WeChat (tests/fake_wechat.py): the
message crypto against WeChat's published test vectors, the operator's steps from docs/operations.md
(verify the URL, follow, ask, menu, QR scenes, menu push), the follower's checklist on the web page,
retries, forged and hostile requests, privacy, and the same answer as in Telegram and on the web."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from urllib.parse import urlsplit

import httpx
import pytest

from bot.settings import Settings, SettingsError

from .conftest import user_columns
from .fake_wechat import FakeAPI, FakeWeChat, fields, seal, sha1_signature, unseal
from .test_web import press, tick_first, web_server

TOKEN = "eportTest123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # the EncodingAESKey of WeChat's own sample
APP_ID = "wx2c2769f8efd9abc2"
APP_SECRET = "0123456789abcdef0123456789abcdef"
LIMIT = 2048  # WeChat's limit for a text reply, in bytes

# -- WeChat's published vectors ----------------------------------------------------------------------
# The official 消息加解密 sample (WXBizMsgCrypt, Python demo): token, key, AppID, timestamp, nonce,
# msg_signature and the Encrypt of a text message "abcdteT".
SAMPLE = {
    "token": "spamtest",
    "key": AES_KEY,
    "app_id": APP_ID,
    "timestamp": "1409735669",
    "nonce": "1320562132",
    "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    "encrypt": "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXp"
    "bUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzj"
    "lpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYY"
    "I1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=",
}
# The official Java sample's test (WXBizMsgCryptTest): "我是中文abcd123" with the random "aaaabbbbccccdddd".
JAVA = {
    "app_id": "wxb11529c136998cb6",
    "random": b"aaaabbbbccccdddd",
    "text": "我是中文abcd123",
    "encrypt": "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==",
}
# wechatpy's tests of the same algorithm (tests/test_crypto.py): a reply encrypted with the random
# "1234567890123456" and its msg_signature; a message to decrypt.
WECHATPY = {
    "token": "123456",
    "key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "app_id": "wx49f0ab532d5d035a",
    "timestamp": "1411525903",
    "nonce": "461056294",
    "random": b"1234567890123456",
    "reply": "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n"
    "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n"
    "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>",
    "reply_encrypt": "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAt"
    "ObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oy"
    "KQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MI"
    "kdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3",
    "reply_signature": "407518b7649e86ef23978113f92d27afa9296533",
    "message_encrypt": "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dG"
    "ymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P"
    "4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQ"
    "gWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=",
    "message_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
}


def test_the_cipher_reproduces_wechats_published_examples():
    from web.wechat import Cipher, Refused, encrypted_reply, parse_xml, signature

    # the official sample: its msg_signature, and the message it decrypts to
    assert signature(SAMPLE["token"], SAMPLE["timestamp"], SAMPLE["nonce"], SAMPLE["encrypt"]) == SAMPLE["msg_signature"]
    message = parse_xml(Cipher(SAMPLE["key"], SAMPLE["app_id"]).decrypt(SAMPLE["encrypt"]).encode())
    assert message == {
        "ToUserName": "gh_10f6c3c3ac5a",
        "FromUserName": "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "CreateTime": "1409735668",
        "MsgType": "text",
        "Content": "abcdteT",
        "MsgId": "6054768590064713728",
    }
    # the Java sample's encryption, byte for byte
    assert Cipher(AES_KEY, JAVA["app_id"]).encrypt(JAVA["text"], JAVA["random"]) == JAVA["encrypt"]
    # wechatpy's: an encrypted, signed reply exactly as expected, and a message decrypted
    cipher = Cipher(WECHATPY["key"], WECHATPY["app_id"])
    reply = encrypted_reply(
        WECHATPY["token"], cipher, WECHATPY["reply"], WECHATPY["timestamp"], WECHATPY["nonce"], WECHATPY["random"]
    )
    assert fields(reply) == {
        "Encrypt": WECHATPY["reply_encrypt"],
        "MsgSignature": WECHATPY["reply_signature"],
        "TimeStamp": WECHATPY["timestamp"],
        "Nonce": WECHATPY["nonce"],
    }
    assert (
        signature(WECHATPY["token"], WECHATPY["timestamp"], WECHATPY["nonce"], WECHATPY["message_encrypt"])
        == WECHATPY["message_signature"]
    )
    decrypted = parse_xml(cipher.decrypt(WECHATPY["message_encrypt"]).encode())
    assert (decrypted["FromUserName"], decrypted["Content"]) == ("messense", "test")
    # the same message for another account is refused (the AppID inside is checked)
    with pytest.raises(Refused) as refused:
        Cipher(SAMPLE["key"], "wx0000000000000000").decrypt(SAMPLE["encrypt"])
    assert refused.value.status == 403


def test_the_fake_wechat_signs_and_encrypts_as_the_published_examples():
    """The test double is checked against the same vectors, so the conversation tests talk to a faithful WeChat."""
    assert seal(AES_KEY, JAVA["app_id"], JAVA["text"], JAVA["random"]) == JAVA["encrypt"]
    assert seal(WECHATPY["key"], WECHATPY["app_id"], WECHATPY["reply"], WECHATPY["random"]) == WECHATPY["reply_encrypt"]
    assert sha1_signature(SAMPLE["token"], SAMPLE["timestamp"], SAMPLE["nonce"], SAMPLE["encrypt"]) == SAMPLE["msg_signature"]
    text, app_id = unseal(SAMPLE["key"], SAMPLE["encrypt"])
    assert app_id == SAMPLE["app_id"] and "<Content><![CDATA[abcdteT]]></Content>" in text


def test_a_malformed_ciphertext_is_refused_not_crashed_on():
    from web.wechat import Cipher, Refused

    cipher = Cipher(AES_KEY, APP_ID)
    good = cipher.encrypt("<xml/>")
    for bad in ("not base64!", "", "QUJD", good[:-8] + "AAAAAAA=", seal(AES_KEY, APP_ID, "x")[:24]):
        with pytest.raises(Refused):
            cipher.decrypt(bad)


# -- the account against the real web server -------------------------------------------------------
def account_settings(mode: str) -> dict[str, str]:
    return {"wechat_token": TOKEN, **({"wechat_aes_key": AES_KEY, "wechat_app_id": APP_ID} if mode == "safe" else {})}


@pytest.fixture(params=["plain", "safe"])
def account(request, tmp_path, kb):
    settings = account_settings(request.param)
    with web_server(tmp_path / "wechat.db", kb, **settings) as (url, guide):
        wx = FakeWeChat(
            url + "/wechat", TOKEN, encoding_aes_key=settings.get("wechat_aes_key"), app_id=settings.get("wechat_app_id")
        )
        yield wx, url, guide


def link_of(content: str) -> str:
    m = re.search(r"(http://\S+/wechat/link\?t=\S+)", content)
    assert m, f"the reply links to the web page: {content}"
    return m.group(1)


def numbered(content: str) -> dict[str, str]:
    """label → number of the reply's numbered choices (below "回复数字选择：")."""
    choices = content.split("回复数字选择：", 1)[1] if "回复数字选择：" in content else ""
    return {label: n for n, label in re.findall(r"^(\d+)\. (.+)$", choices, re.M)}


def follower_id(guide, openid: str) -> int:
    rows = guide.store.conn.execute("SELECT user_id FROM wechat_users").fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]


def test_the_url_is_verified_and_only_with_the_token(account):
    wx, _, _ = account
    assert wx.verify("4193528391").text == "4193528391"  # the platform's 提交: echostr back
    forged = wx.verify("4193528391", signature="0" * 40)
    assert forged.status_code == 403 and "4193528391" not in forged.text


def test_a_follower_subscribes_asks_is_asked_back_answers_by_number_and_ticks_on_the_page(account, kb):
    wx, url, guide = account
    openid = "oFollower_0001"
    welcome = wx.event(openid, "subscribe")
    assert (welcome.status, welcome.fields["MsgType"], welcome.fields["ToUserName"]) == (200, "text", openid)
    assert welcome.fields["FromUserName"] == wx.account
    assert welcome.content.startswith("欢迎关注")
    choices = numbered(welcome.content)
    assert [c.name for c in kb.categories.values()] == list(choices)[: len(kb.categories)]  # the business menu
    # a question that needs the business: asked back, every business numbered
    asked = wx.text(openid, "要带哪些材料")
    assert asked.content.startswith("办理哪项业务？")
    businesses = numbered(asked.content)
    assert all(b.name in businesses for b in kb.businesses.values())
    # the number of 丢失补办: its answer, action first, within WeChat's size, with the link
    answer = wx.text(openid, businesses[kb.businesses["reissue_lost"].name])
    assert answer.content.startswith("丢失补办") and "📑 请带齐" in answer.content
    assert len(answer.content.encode()) <= LIMIT
    link = link_of(answer.content)
    assert openid not in link and openid not in urlsplit(link).query
    # the link opens the answer's page as the follower: the checklist ticked there is theirs
    browser = httpx.Client(base_url=url, follow_redirects=True)
    page = browser.get(link)
    assert page.url.path == "/s/topic:reissue_lost"
    checklist = press(browser, page.text, "📋")
    tick_first(browser, checklist.text)
    user = follower_id(guide, openid)
    assert len(guide.store.ticks(user, "reissue_lost")) == 1
    # and the follower's 我的清单 in WeChat shows it
    lists = wx.event(openid, "CLICK", "go:checklists")
    assert f"1/{len(kb.checklist_items('reissue_lost'))}" in lists.content and "丢失补办" in lists.content


def test_replies_stay_within_wechats_size_for_every_business_and_menu_entry(account, kb):
    from web.wechat import menu

    wx, _, _ = account
    keys = [b["key"] for top in menu(kb)["button"] for b in top.get("sub_button", [top])]
    for n, key in enumerate(keys):
        reply = wx.event("oSizes", "CLICK", key, created=1_000 + n)
        assert reply.status == 200 and 0 < len(reply.content.encode()) <= LIMIT, key
        assert "此菜单已过期" not in reply.content, key  # every menu key opens a screen
    for n, topic in enumerate(kb.businesses):
        reply = wx.event("oSizes", "SCAN", topic, created=2_000 + n)
        assert reply.content.startswith(kb.businesses[topic].name), topic  # the help desk's QR code opens it
        assert len(reply.content.encode()) <= LIMIT


def test_a_qr_code_scene_opens_its_business_for_a_new_follower(account, kb):
    wx, _, _ = account
    reply = wx.event("oScanned", "subscribe", "qrscene_change_name")
    assert reply.content.startswith("欢迎关注") and kb.businesses["change_name"].name in reply.content.splitlines()[1]


def test_a_retried_message_is_answered_once(account):
    wx, _, guide = account
    openid = "oRetry"
    welcome = wx.event(openid, "subscribe", created=1_700_000_000)
    first = wx.text(openid, "3", msg_id=900001)  # 补办业务 of the menu
    again = wx.text(openid, "3", msg_id=900001)  # WeChat's retry: the same MsgId
    assert first.content == again.content and first.content.startswith("补办业务")
    # had the retry been answered again, "3" would have picked the third business of 补办业务's screen
    events = guide.store.conn.execute("SELECT COUNT(*) FROM wechat_messages").fetchone()[0]
    assert events == 2
    # an event is told apart by sender, time and kind: a retried subscribe gets the same welcome, and is not
    # handled again (the follower's numbers still answer 补办业务's screen)
    assert wx.event(openid, "subscribe", created=1_700_000_000).content == welcome.content
    assert wx.text(openid, "1").content.startswith("丢失补办")


def test_forged_requests_get_403_and_nothing_is_answered(account, caplog):
    wx, _, guide = account
    xml = wx.message_xml("oForger", "text", Content="卡丢了怎么办", MsgId="1")
    query = wx.query()
    assert wx.post(xml, query={**query, "signature": "f" * 40}).status == 403
    assert wx.post(xml, query=wx.query(timestamp=str(int(time.time()) - 3600))).status == 403  # an old request replayed
    if wx.key:
        encrypted = seal(AES_KEY, APP_ID, xml)
        body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
        bad_sig = {**query, "encrypt_type": "aes", "msg_signature": "0" * 40}
        assert wx.post(xml, query=bad_sig, raw=body).status == 403
        other = seal(AES_KEY, "wx0000000000000000", xml)  # for another account
        good_sig = {**wx.query(), "encrypt_type": "aes"}
        good_sig["msg_signature"] = sha1_signature(TOKEN, good_sig["timestamp"], good_sig["nonce"], other)
        assert wx.post(xml, query=good_sig, raw=f"<xml><Encrypt><![CDATA[{other}]]></Encrypt></xml>".encode()).status == 403
        assert wx.post(xml, query=wx.query(), raw=xml.encode()).status == 403  # a plain body in safe mode
    else:
        assert wx.post(xml, query={**wx.query(), "encrypt_type": "aes"}).status == 403  # no key configured
    assert guide.store.conn.execute("SELECT COUNT(*) FROM wechat_users").fetchone()[0] == 0


BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType><Content>&lol2;</Content></xml>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType><Content>&e;</Content></xml>"
)


def test_malformed_huge_and_entity_xml_is_refused_without_a_traceback(account, caplog):
    wx, _, _ = account
    caplog.set_level(logging.INFO)
    for body in (
        b"<xml><unclosed>",
        BOMB.encode(),
        EXTERNAL.encode(),
        b"\xff\xfe\x00",
        b"<notwechat/>",
        b"<xml><Content>no sender</Content></xml>",
    ):
        reply = wx.post("", query=wx.query(), raw=body)
        assert reply.status in (400, 403), body
        assert "passwd" not in reply.body and "root:" not in reply.body
    huge = wx.post("", query=wx.query(), raw=b"<xml>" + b"a" * (1024 * 1024) + b"</xml>")
    assert huge.status == 413
    assert not any(r.exc_info for r in caplog.records) and "Traceback" not in caplog.text


def test_other_messages_get_a_polite_line_and_the_menu_and_events_without_words_get_nothing(account, kb):
    wx, _, _ = account
    wx.msg_id += 1
    image = wx.post(wx.message_xml("oImage", "image", PicUrl="http://example.invalid/p.jpg", MediaId="m", MsgId=str(wx.msg_id)))
    assert image.content.startswith("抱歉，这里只能看懂文字和位置") and all(
        c.name in image.content for c in kb.categories.values()
    )
    view = wx.event("oImage", "VIEW", "https://example.invalid/")
    assert (view.status, view.body) == (200, "success")


def test_a_location_gets_the_nearest_office(account, kb):
    wx, _, _ = account
    near_tongliao = wx.location("oWhere", 43.65, 122.24)
    assert "通辽" in near_tongliao.content.splitlines()[0]
    office = next(o for o in kb.offices.values() if o.city == "通辽")
    assert office.address in near_tongliao.content and office.phones[0] in near_tongliao.content
    hailar = wx.location("oWhere", 0.0, 0.0, label="内蒙古自治区呼伦贝尔市海拉尔区胜利大街")  # the label names the city
    assert next(o for o in kb.offices.values() if o.city == "呼伦贝尔").address in hailar.content


def test_typing_delete_my_data_asks_then_deletes_everything_of_the_follower(account):
    wx, url, guide = account
    openid = "oForget"
    wx.event(openid, "subscribe")
    wx.text(openid, "卡丢了怎么办")
    user = follower_id(guide, openid)
    asked = wx.text(openid, "删除我的数据")
    assert "确定吗" in asked.content
    confirm = numbered(asked.content)["确认删除"]
    done = wx.text(openid, confirm)
    assert "已删除关于您的全部数据" in done.content and "/wechat/link" not in done.content
    conn = guide.store.conn
    assert {
        f"{t}.{c}": conn.execute(f"SELECT COUNT(*) FROM {t} WHERE {c} = ?", (user,)).fetchone()[0] for t, c in user_columns(conn)
    } == {f"{t}.{c}": 0 for t, c in user_columns(conn)}
    assert conn.execute("SELECT COUNT(*) FROM wechat_users").fetchone()[0] == 0
    wx.text(openid, "你好")
    assert follower_id(guide, openid) != user  # a new start, nothing carried over


def test_wechats_retry_of_the_confirmed_deletion_gets_the_same_answer_and_keeps_nothing(account):
    wx, _, guide = account
    openid = "oForgetRetried"
    asked = wx.text(openid, "删除我的数据")
    confirm = numbered(asked.content)["确认删除"]
    done = wx.text(openid, confirm, msg_id=900101)
    assert "已删除关于您的全部数据" in done.content
    # WeChat did not get the reply in time and sends the confirmation again (the same MsgId): the follower
    # reads the same answer, not "没有编号为 1 的按钮" of a new start, and no new follower is made of it
    again = wx.text(openid, confirm, msg_id=900101)
    assert again.content == done.content
    conn = guide.store.conn
    assert conn.execute("SELECT COUNT(*) FROM wechat_users").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


def test_unsubscribing_starts_the_retention_of_an_inactive_user(account):
    wx, _, guide = account
    openid = "oLeaving"
    wx.event(openid, "subscribe")
    wx.text(openid, "卡丢了怎么办")
    user = follower_id(guide, openid)
    assert wx.event(openid, "unsubscribe").body == "success"
    from dialogs.features.privacy import expire
    from web.sessions import is_web_user

    now = dt.datetime.now(dt.timezone.utc)
    assert expire(guide.store, now + dt.timedelta(days=364), 365, whose=is_web_user) == []
    assert expire(guide.store, now + dt.timedelta(days=366), 365, whose=is_web_user) == [user]
    assert guide.store.conn.execute("SELECT COUNT(*) FROM wechat_users").fetchone()[0] == 0


def test_a_link_is_signed_expiring_and_dead_after_the_data_is_deleted(account):
    wx, url, guide = account
    reply = wx.text("oLinks", "卡丢了怎么办")
    link = link_of(reply.content)
    token = link.split("t=", 1)[1]
    browser = httpx.Client(base_url=url, follow_redirects=False)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert browser.get(f"/wechat/link?t={tampered}").status_code == 404
    payload, mac = token.split(".")
    assert browser.get(f"/wechat/link?t=QUJD.{mac}").status_code == 404  # another payload, the same signature
    opened = browser.get(link)
    assert opened.status_code == 303 and "Set-Cookie" in opened.headers
    guide.store.forget_user(follower_id(guide, "oLinks"))
    stale = httpx.Client(base_url=url, follow_redirects=False).get(link)
    assert stale.status_code == 303 and "Set-Cookie" not in stale.headers  # the page, without anyone's checklist


def test_nothing_of_a_message_is_logged(account, caplog):
    wx, _, _ = account
    caplog.set_level(logging.DEBUG)
    secret_question = "我的身份证号码150702199001011234丢了怎么办"
    wx.text("oQuiet_42", secret_question)
    wx.text("oQuiet_42", "<xml>")
    logged = caplog.text
    assert "150702199001011234" not in logged and "oQuiet_42" not in logged and TOKEN not in logged


def lines(text: str) -> list[str]:
    """Non-empty lines, without the addresses a link's text is followed by in plain text ("地图 (https://…)")."""
    return [re.sub(r" \(https?://[^)\s]*\)", "", line).strip() for line in text.strip().splitlines() if line.strip()]


async def test_the_same_question_gets_the_same_answer_in_wechat_in_telegram_and_on_the_web(fake, bot_app, tmp_path, kb):
    """WeChat's reply is the screen the Telegram bot sends for the same words (its first lines when long),
    and its link opens the page the web's question box gives."""
    with web_server(tmp_path / "same.db", kb, wechat_token=TOKEN) as (url, _):
        wx = FakeWeChat(url + "/wechat", TOKEN)
        browser = httpx.Client(base_url=url, follow_redirects=True)
        for n, question in enumerate(["卡丢了怎么办", "通辽在哪里办", "营业执照复印件上写什么", "要带哪些材料", "公司改名了"]):
            telegram = await fake.user(id=500 + n).send(question)
            reply = wx.text(f"oSame{n}", question)
            head = lines(reply.content.split("\n\n回复数字选择")[0].removesuffix("…（内容较长，完整内容见下方链接）"))
            said = lines(telegram.plain)
            assert len(head) >= 2 and said[: len(head)] == head, question
            numbered_labels = list(numbered(reply.content))
            assert numbered_labels and set(numbered_labels) <= set(telegram.labels), question  # the same choices
            web_page = browser.get("/ask", params={"q": question}).text
            opened = httpx.Client(base_url=url, follow_redirects=True).get(link_of(reply.content)).text
            assert said[0] in web_page and said[0] in opened, question


# -- the operator's side: settings, the menu, the QR scenes ------------------------------------------
@pytest.mark.parametrize(
    "variable, value",
    [
        ("EPORT_WECHAT_TOKEN", "to"),
        ("EPORT_WECHAT_TOKEN", "has space!secretvalue"),
        ("EPORT_WECHAT_AES_KEY", "tooShortSecretKeyValue"),
        ("EPORT_WECHAT_AES_KEY", AES_KEY[:-1] + "!"),
        ("EPORT_WECHAT_APP_SECRET", "notHexSecret_value_0123456789abcd"),
    ],
)
def test_wechat_settings_are_validated_without_printing_the_secret(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as err:
        Settings.from_env()
    message = str(err.value)
    assert message.startswith(variable) and value not in message and "\n" not in message


def test_safe_mode_needs_the_app_id_and_the_message_says_so(monkeypatch):
    monkeypatch.setenv("EPORT_WECHAT_TOKEN", TOKEN)
    monkeypatch.setenv("EPORT_WECHAT_AES_KEY", AES_KEY)
    with pytest.raises(SettingsError) as err:
        Settings.from_env()
    assert "EPORT_WECHAT_APP_ID" in str(err.value) and AES_KEY not in str(err.value)
    monkeypatch.setenv("EPORT_WECHAT_APP_ID", APP_ID)
    settings = Settings.from_env()
    assert {TOKEN, AES_KEY} <= set(settings.secrets())


def test_the_menu_is_built_from_the_knowledge_within_wechats_limits(kb):
    from web.wechat import menu

    built = menu(kb)
    assert len(built["button"]) <= 3
    names, keys = [], []
    for top in built["button"]:
        assert len(top["name"].encode()) <= 16
        for sub in top.get("sub_button", []):
            assert len(sub["name"].encode()) <= 60 and sub["type"] == "click" and len(sub["key"].encode()) <= 128
        assert len(top.get("sub_button", [])) <= 5
        for b in top.get("sub_button", [top]):
            names.append(b["name"])
            keys.append(b["key"])
    shown = {k.removeprefix("go:category:") for k in keys if k.startswith("go:category:")}
    assert shown == set(kb.categories) or "go:main" in keys  # every category in the menu, or 全部业务
    assert "go:offices" in keys and "go:checklists" in keys


def test_menu_push_fetches_the_token_once_and_caches_it(tmp_path, monkeypatch, capsys, kb):
    from bot.cli import main

    api = FakeAPI(APP_ID, APP_SECRET)
    with api.running():
        db = tmp_path / "menu.db"
        monkeypatch.setenv("EPORT_WECHAT_API_URL", api.url)
        monkeypatch.setenv("EPORT_WECHAT_APP_ID", APP_ID)
        monkeypatch.setenv("EPORT_WECHAT_APP_SECRET", APP_SECRET)
        assert main(["wechat-menu", "--db", str(db)]) == 0  # printed only
        printed = json.loads(capsys.readouterr().out)
        assert api.calls == []
        assert main(["wechat-menu", "--push", "--db", str(db)]) == 0
        assert main(["wechat-menu", "--push", "--db", str(db)]) == 0
        assert api.calls.count("/cgi-bin/token") == 1 and api.calls.count("/cgi-bin/menu/create") == 2  # cached
        assert api.menus == [printed, printed]
        api.expire_next = True  # WeChat says the token expired: fetched again, the menu sent once more
        assert main(["wechat-menu", "--push", "--db", str(db)]) == 0
        assert api.calls.count("/cgi-bin/token") == 2 and len(api.menus) == 3
        out = capsys.readouterr()
        assert APP_SECRET not in out.out + out.err and all(t not in out.out + out.err for t in api.tokens)


def test_menu_push_honours_expires_in(tmp_path, kb):
    from dialogs.store import Store
    from web.wechat import TOKEN_EARLY_S, WeChatAPI

    api = FakeAPI(APP_ID, APP_SECRET, expires_in=7200)
    clock = [1_000_000.0]
    with api.running(), Store(tmp_path / "t.db") as store:
        client = WeChatAPI(store, APP_ID, APP_SECRET, api.url, clock=lambda: clock[0])
        client.push_menu({"button": []})
        clock[0] += 7200 - TOKEN_EARLY_S - 1
        client.push_menu({"button": []})
        assert client.fetched == 1
        clock[0] += 2  # within the last minutes of its life: renewed before WeChat expires it
        client.push_menu({"button": []})
        assert client.fetched == 2


def test_menu_push_refused_is_one_line_without_the_secret(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    api = FakeAPI(APP_ID, "f" * 32)
    with api.running():
        monkeypatch.setenv("EPORT_WECHAT_API_URL", api.url)
        monkeypatch.setenv("EPORT_WECHAT_APP_ID", APP_ID)
        monkeypatch.setenv("EPORT_WECHAT_APP_SECRET", APP_SECRET)
        assert main(["wechat-menu", "--push", "--db", str(tmp_path / "m.db")]) == 2
    err = capsys.readouterr().err
    assert "40125" in err and APP_SECRET not in err and len(err.strip().splitlines()) == 1
    monkeypatch.delenv("EPORT_WECHAT_APP_SECRET")
    assert main(["wechat-menu", "--push", "--db", str(tmp_path / "m.db")]) == 2
    assert "EPORT_WECHAT_APP_SECRET" in capsys.readouterr().err


def test_links_wechat_prints_the_scene_value_of_every_business(capsys, kb):
    from bot.cli import main

    assert main(["links", "--wechat"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(kb.businesses)
    for line, (topic, business) in zip(lines, kb.businesses.items()):
        scene, name, request = line.split(None, 2)
        assert (scene, name) == (topic, business.name)
        assert json.loads(request)["action_info"]["scene"]["scene_str"] == topic


def test_the_wechat_path_is_not_served_without_the_token(tmp_path, kb):
    with web_server(tmp_path / "none.db", kb) as (url, _):
        wx = FakeWeChat(url + "/wechat", TOKEN)
        assert wx.verify("123").status_code == 404


def test_the_operator_steps_from_docs_operations(tmp_path, kb):
    """docs/operations.md, "WeChat Official Account", steps 3-8: the web service configured with the
    account's variables, the platform's URL verification, the menu printed and pushed, the QR scene
    values, and a follower's first question answered — the real `eport-guide web` against a fake WeChat."""
    import os
    import signal
    import subprocess
    import sys

    from .conftest import first_page
    from .test_web import REPO, free_port

    port = free_port()
    api = FakeAPI(APP_ID, APP_SECRET)
    with api.running():
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "EPORT_GUIDE_DB": str(tmp_path / "ops.db"),
            "EPORT_GUIDE_WEB_URL": f"http://127.0.0.1:{port}",  # step 3
            "EPORT_WECHAT_TOKEN": TOKEN,
            "EPORT_WECHAT_AES_KEY": AES_KEY,
            "EPORT_WECHAT_APP_ID": APP_ID,
            "EPORT_WECHAT_APP_SECRET": APP_SECRET,
            "EPORT_WECHAT_API_URL": api.url,
        }
        cli = [sys.executable, "-m", "bot.cli"]
        proc = subprocess.Popen(
            [*cli, "web", "--port", str(port)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            first_page(proc, f"http://127.0.0.1:{port}/")
            wx = FakeWeChat(f"http://127.0.0.1:{port}/wechat", TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
            assert wx.verify("echo4193528391").text == "echo4193528391"  # step 5: 提交
            printed = subprocess.run([*cli, "wechat-menu"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
            pushed = subprocess.run(
                [*cli, "wechat-menu", "--push"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
            )
            assert printed.returncode == pushed.returncode == 0 and api.menus == [json.loads(printed.stdout)]  # step 6
            scenes = subprocess.run(
                [*cli, "links", "--wechat", "--out", str(tmp_path / "qr")],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            scene = scenes.stdout.splitlines()[0].split()[0]  # step 7: a help desk's code, made by WeChat
            assert scenes.returncode == 0 and (tmp_path / "qr" / f"{scene}.png").is_file() and scene in api.qr_scenes
            assert wx.event("oPhone", "subscribe", f"qrscene_{scene}").content.startswith("欢迎关注")
            answer = wx.text("oPhone", "卡丢了怎么办")  # step 8
            assert answer.content.startswith("丢失补办") and f"http://127.0.0.1:{port}/wechat/link?t=" in answer.content
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "WeChat Official Account served at /wechat (safe mode)" in err and "Traceback" not in err
    everything = out + err + printed.stdout + printed.stderr + pushed.stdout + pushed.stderr
    assert all(secret not in everything for secret in (TOKEN, AES_KEY, APP_SECRET)) and "卡丢了" not in err


def test_a_follower_known_only_from_a_silent_event_is_still_covered_by_retention(account):
    wx, _, guide = account
    assert wx.event("oViewOnly", "VIEW", "https://example.invalid/").body == "success"
    user = follower_id(guide, "oViewOnly")
    from dialogs.features.privacy import expire
    from web.sessions import is_web_user

    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=366)
    assert expire(guide.store, later, 365, whose=is_web_user) == [user]
    assert guide.store.conn.execute("SELECT COUNT(*) FROM wechat_users").fetchone()[0] == 0


def test_typed_words_numbers_and_commands_behave_as_in_the_console_chat(account, kb):
    wx, _, _ = account
    openid = "oTyping"
    menu_ = wx.text(openid, "菜单")
    assert all(c.name in numbered(menu_.content) for c in kb.categories.values())
    wrong = wx.text(openid, "99")
    assert wrong.content.startswith("没有编号为 99 的按钮") and numbered(wrong.content) == numbered(menu_.content)
    unknown = wx.text(openid, "/nosuchcommand")
    assert "/nosuchcommand" in unknown.content and numbered(unknown.content) == numbered(menu_.content)
    assert wx.text(openid, "/quit").content.startswith(menu_.content.splitlines()[0])
    by_words = wx.text(openid, "补办业务")  # a choice's words work like its number
    assert by_words.content.startswith("补办业务")
    forged_key = wx.event(openid, "CLICK", "go:../../etc/passwd")
    assert forged_key.content.startswith(menu_.content.splitlines()[0])
    nowhere = wx.location(openid, 999.0, 0.0)
    assert nowhere.content.startswith("没能读出您发送的位置") and "满洲里制卡中心" in nowhere.content


def test_the_menu_keeps_wechats_limits_whatever_the_number_of_categories():
    from types import SimpleNamespace

    from web.wechat import menu

    def kb_with(n: int):
        cats = {f"c{i}": SimpleNamespace(id=f"c{i}", name=f"第{i}类业务名称很长很长很长很长很长很长很长很长") for i in range(n)}
        return SimpleNamespace(categories=cats)

    for n in (1, 5, 6, 10, 11, 30):
        built = menu(kb_with(n))["button"]
        assert len(built) <= 3
        subs = [b for top in built for b in top.get("sub_button", [top])]
        assert all(len(b["name"].encode()) <= (60 if "sub_button" not in b else 16) for b in subs)
        assert all(len(top.get("sub_button", [])) <= 5 for top in built)
        keys = {b["key"] for b in subs}
        shown = {k for k in keys if k.startswith("go:category:")}
        assert len(shown) == n or ("go:main" in keys and len(shown) == 9), n
        assert {"go:offices", "go:checklists"} <= keys


def test_a_reply_is_cut_at_a_line_and_never_past_wechats_limit():
    from web.wechat import fit

    text = "第一行\n" + "长" * 3000 + "\n第三行"
    cut = fit(text, 600, "…")
    assert cut.startswith("第一行") and cut.endswith("…") and len(cut.encode()) <= 600
    one_line = fit("长" * 3000, 600, "…")
    assert len(one_line.encode()) <= 600 and one_line.startswith("长")


async def test_run_with_web_serves_the_account_from_the_bots_process(fake, tmp_path, kb):
    """`eport-guide run --web`: the bot's process serves /wechat with the pages; the sync fake WeChat runs
    in a thread so that the bot's loop (which serves the pages here) keeps turning."""
    import asyncio

    from web.server import attach

    from .conftest import running_bot
    from .test_web import free_port

    port = free_port()
    async with running_bot(
        fake, tmp_path / "both.db", before_init=attach, web_port=port, wechat_token=TOKEN, web_url=f"http://127.0.0.1:{port}"
    ):
        wx = FakeWeChat(f"http://127.0.0.1:{port}/wechat", TOKEN)
        assert (await asyncio.to_thread(wx.verify, "echo1")).text == "echo1"
        reply = await asyncio.to_thread(wx.text, "oBoth", "卡丢了怎么办")
        assert reply.content.startswith("丢失补办") and f"http://127.0.0.1:{port}/wechat/link?t=" in reply.content
        telegram = await fake.user(id=88).send("卡丢了怎么办")
        assert lines(telegram.plain)[0] == lines(reply.content)[0]


def test_links_wechat_out_makes_the_help_desks_qr_codes_with_wechat(tmp_path, monkeypatch, capsys, kb):
    from bot.cli import main
    from dialogs.links import qr_matrix

    api = FakeAPI(APP_ID, APP_SECRET)
    with api.running():
        monkeypatch.setenv("EPORT_WECHAT_API_URL", api.url)
        monkeypatch.setenv("EPORT_WECHAT_APP_ID", APP_ID)
        monkeypatch.setenv("EPORT_WECHAT_APP_SECRET", APP_SECRET)
        out = tmp_path / "qr"
        assert main(["links", "--wechat", "--out", str(out), "--db", str(tmp_path / "q.db")]) == 0
    assert api.qr_scenes == list(kb.businesses) and api.calls.count("/cgi-bin/token") == 1
    sheet = (out / "index.html").read_text(encoding="utf-8")
    for topic, business in kb.businesses.items():
        assert (out / f"{topic}.png").is_file() and f"http://weixin.qq.com/q/{topic}" in sheet and business.name in sheet
    assert qr_matrix(f"http://weixin.qq.com/q/{next(iter(kb.businesses))}")  # what each PNG encodes
    assert APP_SECRET not in capsys.readouterr().err


def test_a_link_expires_after_a_day(guide):
    from types import SimpleNamespace

    from web.wechat import LINK_MAX_AGE_S, WeChat

    settings = SimpleNamespace(wechat_token=TOKEN, wechat_aes_key=None, wechat_app_id=None, web_url="https://guide.example.org")
    wechat = WeChat(SimpleNamespace(guide=guide, engine=guide.engine, store=guide.store), settings)
    now = [1_800_000_000.0]
    wechat.clock = lambda: now[0]
    user = wechat.user("oExpiring")
    token = wechat.link("http://ignored", user, "topic:unlock").split("t=", 1)[1]
    assert wechat.open_link(token) == (user, "topic:unlock")
    now[0] += LINK_MAX_AGE_S - 1
    assert wechat.open_link(token) == (user, "topic:unlock")
    now[0] += 2
    assert wechat.open_link(token) == (None, "topic:unlock")  # the page still opens, as nobody's
