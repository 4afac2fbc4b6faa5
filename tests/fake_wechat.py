"""A test double of WeChat: its message server posting to our ``/wechat`` (signing and encrypting the
way the documentation's samples do, written independently of web/wechat.py and checked against the
published test vectors in tests/test_wechat.py), and its API (the access token, the menu) on 127.0.0.1."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import struct
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def seal(encoding_aes_key: str, app_id: str, text: str, random: bytes | None = None) -> str:
    """WXBizMsgCrypt's EncryptMsg: random(16) + length (network order) + text + AppID, PKCS#7 to 32 bytes, AES-CBC."""
    key = aes_key(encoding_aes_key)
    body = text.encode()
    padder = padding.PKCS7(256).padder()
    plain = padder.update((random or os.urandom(16)) + struct.pack("!I", len(body)) + body + app_id.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def unseal(encoding_aes_key: str, encrypted: str) -> tuple[str, str]:
    """(text, AppID) of an Encrypt value."""
    key = aes_key(encoding_aes_key)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    unpadder = padding.PKCS7(256).unpadder()
    plain = unpadder.update(plain) + unpadder.finalize()
    length = struct.unpack("!I", plain[16:20])[0]
    return plain[20 : 20 + length].decode(), plain[20 + length :].decode()


def fields(xml: str) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ET.fromstring(xml)}


@dataclass
class Reply:
    status: int
    body: str
    fields: dict[str, str] = field(default_factory=dict)  # the (decrypted) reply message

    @property
    def content(self) -> str:
        return self.fields.get("Content", "")


class FakeWeChat:
    """WeChat's servers posting a follower's messages to ``url`` (/wechat) for the account ``account``."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        encoding_aes_key: str | None = None,
        app_id: str | None = None,
        account: str = "gh_0123456789ab",
    ):
        self.url, self.token, self.key, self.app_id, self.account = url, token, encoding_aes_key, app_id, account
        self.client = httpx.Client(timeout=10)
        self.msg_id = 6054768590064713000

    def query(self, timestamp: str | None = None, nonce: str | None = None, **extra: str) -> dict[str, str]:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**9))
        return {"signature": sha1_signature(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}

    def verify(self, echostr: str, **override: str) -> httpx.Response:
        return self.client.get(self.url, params={**self.query(), "echostr": echostr, **override})

    def message_xml(self, openid: str, kind: str, created: int | None = None, **values: str) -> str:
        parts = [
            f"<ToUserName><![CDATA[{self.account}]]></ToUserName>",
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
            f"<CreateTime>{created or int(time.time())}</CreateTime>",
            f"<MsgType><![CDATA[{kind}]]></MsgType>",
        ]
        parts += [
            f"<{k}><![CDATA[{v}]]></{k}>" if not k.startswith("Location") and k != "MsgId" else f"<{k}>{v}</{k}>"
            for k, v in values.items()
        ]
        return "<xml>" + "".join(parts) + "</xml>"

    def post(self, xml: str, *, query: dict[str, str] | None = None, raw: bytes | None = None) -> Reply:
        """POST a message as WeChat does in the account's mode; the reply decrypted and its signature checked."""
        query = query or self.query()
        body = xml.encode()
        if self.key and raw is None:
            encrypted = seal(self.key, self.app_id or "", xml)
            query = {
                **query,
                "encrypt_type": "aes",
                "openid": "x",
                "msg_signature": sha1_signature(self.token, query["timestamp"], query["nonce"], encrypted),
            }
            body = f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
        response = self.client.post(
            self.url + "?" + urlencode(query), content=raw if raw is not None else body, headers={"Content-Type": "text/xml"}
        )
        reply = Reply(response.status_code, response.text)
        if response.status_code == 200 and response.text.startswith("<xml>"):
            got = fields(response.text)
            if self.key:
                assert "Encrypt" in got, "safe mode: the reply is encrypted"
                assert got["MsgSignature"] == sha1_signature(self.token, got["TimeStamp"], got["Nonce"], got["Encrypt"])
                text, app_id = unseal(self.key, got["Encrypt"])
                assert app_id == self.app_id
                got = fields(text)
            reply.fields = got
        return reply

    def text(self, openid: str, content: str, msg_id: int | None = None) -> Reply:
        self.msg_id += 1
        return self.post(self.message_xml(openid, "text", Content=content, MsgId=str(msg_id or self.msg_id)))

    def event(self, openid: str, event: str, key: str = "", created: int | None = None) -> Reply:
        values = {"Event": event}
        if key:
            values["EventKey"] = key
        return self.post(self.message_xml(openid, "event", created=created, **values))

    def location(self, openid: str, lat: float, lon: float, label: str = "") -> Reply:
        self.msg_id += 1
        return self.post(
            self.message_xml(
                openid, "location", Location_X=str(lat), Location_Y=str(lon), Scale="15", Label=label, MsgId=str(self.msg_id)
            )
        )


class FakeAPI:
    """WeChat's API: /cgi-bin/token (AppID and AppSecret → an access token) and /cgi-bin/menu/create."""

    def __init__(self, app_id: str, app_secret: str, expires_in: int = 7200):
        self.app_id, self.app_secret, self.expires_in = app_id, app_secret, expires_in
        self.tokens: list[str] = []  # every token issued; only the last is valid
        self.menus: list[dict] = []
        self.qr_scenes: list[str] = []  # the permanent QR codes made
        self.calls: list[str] = []
        self.expire_next = False  # the next menu/create says the token expired (42001)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.calls.append(parts.path)
                if parts.path != "/cgi-bin/token":
                    return self._json({"errcode": 404, "errmsg": "not found"})
                if (
                    q.get("appid") != fake.app_id
                    or q.get("secret") != fake.app_secret
                    or q.get("grant_type") != "client_credential"
                ):
                    return self._json({"errcode": 40125, "errmsg": "invalid appsecret"})
                token = secrets.token_urlsafe(40)
                fake.tokens.append(token)
                self._json({"access_token": token, "expires_in": fake.expires_in})

            def do_POST(self):
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.calls.append(parts.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if not fake.tokens or q.get("access_token") != fake.tokens[-1]:
                    return self._json({"errcode": 40001, "errmsg": "invalid credential"})
                if fake.expire_next:
                    fake.expire_next = False
                    fake.tokens.append("expired")  # nothing issued is valid any more
                    return self._json({"errcode": 42001, "errmsg": "access_token expired"})
                if parts.path == "/cgi-bin/menu/create":
                    fake.menus.append(json.loads(body.decode("utf-8")))
                    return self._json({"errcode": 0, "errmsg": "ok"})
                if parts.path == "/cgi-bin/qrcode/create":
                    request = json.loads(body.decode("utf-8"))
                    if request.get("action_name") != "QR_LIMIT_STR_SCENE":
                        return self._json({"errcode": 40097, "errmsg": "invalid args"})
                    scene = request["action_info"]["scene"]["scene_str"]
                    fake.qr_scenes.append(scene)
                    return self._json({"ticket": f"ticket-{scene}", "url": f"http://weixin.qq.com/q/{scene}"})
                return self._json({"errcode": 404, "errmsg": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextlib.contextmanager
    def running(self):
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)
