"""Free-text questions → routes: the one fact that answers it, a business, or suggestions.

Every route the user can be sent to is a small document: an answer's question forms and
title in three languages (knowledge/data/answers.yaml), a business's, material's or
office's name and the words people use for it (vocabulary.yaml). A question and the
documents are read the same way:

- Chinese runs are segmented by dictionary max-match (an Aho–Corasick automaton,
  pyahocorasick) over the synonym table: every synonym becomes its concept (公司, 单位 and
  企业 read alike; 法人卡 is not 法人), and the run is indexed as concepts plus character
  bigrams, so word order costs little. One wrong character in a vocabulary word is
  corrected where it makes a bigram no document uses (the words one character away looked up by key).
- Russian and English words are corrected against the known words when they look like a
  typo (rapidfuzz), stemmed (Snowball, PyStemmer) and mapped to the same concepts.
- The documents are ranked with BM25 (rank-bm25). The best is answered directly when it
  explains enough of the question (coverage) and is clearly ahead of the best route it is
  not related to (a fact and the screen it belongs to do not compete); otherwise the
  screen offers two or three suggestions. Holder-only facts need a sign of a holder acting
  personally; Jiangsu-only and silent facts yield to what the Manzhouli document does say.

Nothing is loaded from disk beyond the knowledge, and the engine builds the matcher on
first use or in the background, so start-up does not wait for these libraries.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick
import numpy as np
import Stemmer
from xpinyin import Pinyin
from rank_bm25 import BM25Okapi
from rapidfuzz import fuzz, process

from knowledge import Knowledge

from .routes import Route

MAX_QUESTION = 500  # characters considered; longer input is cut, not rejected
CONFIDENT_SCORE = 2.0  # BM25 score the best route needs to be answered directly
MARGIN = 1.1  # … it must beat the runner-up by this factor
MIN_COVERAGE = 0.2
MIN_SUGGEST = 1.5
SUGGEST_WITHIN = 0.5  # suggestions: routes scoring at least this share of the best
PARTICLES = frozenset("吗呢吧啊么了的嘛呀哦啦哪")  # never the wrong character of a mistyped word
# … nor, for a homophone, a pronoun or function word that sounds like another (那/哪, 他/她, 在/再)
FUNCTION_CHARS = PARTICLES | frozenset("那这他她它得地在再是有和就都也还又些们")
# who acts, in one character (我离职了 is the holder's own card, 小王离职了 someone else's): a typo is never corrected
# into or out of one — a slip of the input method must not change whose card it is
PERSON_CHARS = frozenset("我你您他她俺咱")
NEVER_SWAPPED = FUNCTION_CHARS | PERSON_CHARS  # characters a homophone fix neither replaces nor puts in
# common two-character words no document happens to use: never the place of a typo (去办的话 is not 去办的人)
COMMON_BIGRAMS = frozenset("的话 过去 来着 一下 那句 这边 那边 上哪 发我 放了 放着 走哪".split())
# traditional (and variant) characters an applicant may type, read as the simplified ones the documents use
# (滿州里 → 满州里, then the one-character typo → 满洲里): the characters of this domain's words, not a whole converter
_TRADITIONAL = str.maketrans(
    "滿電話號碼證業執辦門開銀設張請書簽註銷變補過鎖換壞員個們麼嗎裡這邊見護譯蓋寫複來說時間幾錢費網點爾貝倫鄉遼興區蘇寧"
    "鹽郵遞領買賣啟戶帳錄傳單統會長當後還沒從轉為與關問題應該準備帶參資將歸發報馬東務處則規標離職氣實際驗憑據構機權託簡"
    "體經紀國內聯繫線選擇頁幫辭續卻筆跡圖讀識別錯鑰靈團廠廣盤認確駁愛樣頭裝視頻於屆條萬億兩額價級歲議產廳館場縣鎮鄰劃紙"
    "寶贈擔責負總戰勞動僅專雙難謝讓給殼殺廢棄舊陽陰鐵車軟載檔夠兒無盡佈彙匯",
    "满电话号码证业执办门开银设张请书签注销变补过锁换坏员个们么吗里这边见护译盖写复来说时间几钱费网点尔贝伦乡辽兴区苏宁"
    "盐邮递领买卖启户账录传单统会长当后还没从转为与关问题应该准备带参资将归发报马东务处则规标离职气实际验凭据构机权托简"
    "体经纪国内联系线选择页帮辞续却笔迹图读识别错钥灵团厂广盘认确驳爱样头装视频于届条万亿两额价级岁议产厅馆场县镇邻划纸"
    "宝赠担责负总战劳动仅专双难谢让给壳杀废弃旧阳阴铁车软载档够儿无尽布汇汇",
)
RU_PREFIX = 6  # letters of a Russian stem a word is also known by (аннулир…: аннулирую, аннулировать)
FUZZY_CUTOFF = 75  # rapidfuzz ratio for correcting a Latin/Cyrillic typo
CJK_FUZZY_CUTOFF = 74  # rapidfuzz partial ratio for a Chinese dictionary word with a typo
BM25_K1, BM25_B = 1.2, 0.3
JIANGSU_FACTOR = 0.85  # the bot serves Manzhouli: a Jiangsu-only fact wins only when clearly asked for
MEMO_SIZE = 4096  # questions whose results are kept (a few hundred bytes each)
SILENT_FACTOR = 0.9  # "the documents do not say" wins only over what they do say when clearly asked
HOLDER_PENALTY = 0.7  # holder-only answers, for a question with no sign of a holder acting personally
_CJK = "\u4e00-\u9fff"
_RUNS = re.compile(rf"[{_CJK}][{_CJK}0-9]*|[a-zа-я0-9][a-zа-я0-9'+.-]*", re.IGNORECASE)  # 附件1 is one run
_CYRILLIC = re.compile(r"[а-я]")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_CJK_WORD = re.compile(rf"[{_CJK}]+")
_CJK_RUN = re.compile(rf"[{_CJK}][{_CJK}0-9]*")
_SPACES = re.compile(r"\s+")
_CONCEPT_BASE = 0xE000  # concepts are private-use characters inside Chinese runs
STOP_WORDS = frozenset(
    "a an the i me my we our you your it is are was be do does did to of in on at for with and or "
    "can could should would will what how where when who why this that there have has need "
    "please any some about get got if then than so as by from me? "
    "last ago just week weeks month months year years "  # when it happened: never a typo ("last" is not "lost")
    "we're i'm it's you're they're we've i've that's what's there's here's let's i'd we'd "  # never a typo ("we're" is not "where")
    "я мы вы он она оно они мой моя мои наш наша ваш это что как где когда ли и в во на с со к ко "
    "по за из у о об не нет да или а но же бы то ещё еще мне нам нужно надо можно есть если".split()
)


# common English words a question is made of: never taken for a typo of a vocabulary word ("coming" is not "closing",
# "come" not "close"); still read as themselves
NEVER_TYPOS = frozenset(
    "come coming came comes go going goes gone went make making made take taking took give giving gave bring "
    "brought want wants need needs possible possibly still also there here then when know think thing things "
    "person people someone something anything everything nothing without within about after before other another "
    # (… and Russian verbs a word away from a vocabulary noun: предоставить is not представитель)
    "предоставить предоставлять предоставляем предоставляется предоставили представить заверить заверять заверяется "
    "прислать прислат присылать присылат отправить отправит отправлять послать послат".split()
)


@dataclass(frozen=True)
class Match:
    """One route the ranking proposes for a question, with its BM25 score."""

    route: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """The ranking of routes for one question, with what decides whether the best is answered
    directly (coverage, the best unrelated rival)."""

    question: str
    matches: tuple[Match, ...]
    coverage: float = 1.0  # share of the question (idf-weighted) the best route explains
    rival: float | None = None  # the best score of a route unrelated to the best one (None: the runner-up's)

    @property
    def best(self) -> Match | None:
        """The top-ranked route, None when no route matched the question."""
        return self.matches[0] if self.matches else None

    @property
    def confident(self) -> bool:
        """Whether the best route is answered directly: scores enough, explains enough of the
        question and is clearly ahead of its rival."""
        if not self.matches or self.matches[0].score < CONFIDENT_SCORE or self.coverage < MIN_COVERAGE:
            return False
        rival = self.rival if self.rival is not None else (self.matches[1].score if len(self.matches) > 1 else 0.0)
        return self.matches[0].score >= MARGIN * rival

    @property
    def suggestions(self) -> tuple[Match, ...]:
        """Up to three routes to offer when not confident: those scoring near the best."""
        if not self.matches:
            return ()
        floor = max(MIN_SUGGEST, SUGGEST_WITHIN * self.matches[0].score)
        return tuple(m for m in self.matches[:3] if m.score >= floor)


# Spoken and dialect Chinese read as the written forms the documents and the vocabulary use, so one word list
# serves every way of saying it (俺们公司名儿改了，卡咋整 reads as 我们公司名字改了，卡怎么办): fillers dropped,
# northern dialect words and 儿化 mapped. Applied to questions and to the vocabulary alike (normalise).
_FILLERS = re.compile(
    r"那个啥|就是说|好像|似乎|貌似|估计|嗯+|呃+|唔|哎呀|哎|唉|诶|欸|那个(?![表人的])|这个(?![表人的])|就是(?=[^这那吗么嘛不]|$)"
)
_SPOKEN = (
    (re.compile(r"俺们|咱们|咱(?=[公单家厂企])"), "我们"),
    (re.compile(r"俺|咱"), "我"),
    (re.compile(r"咋(?:个)?(?:整|弄|搞|办|处理)"), "怎么办"),
    (re.compile(r"咋"), "怎么"),
    (re.compile(r"啥子|啥"), "什么"),
    (re.compile(r"(?<=盖)(什么|哪个|哪种)张"), r"\1章"),  # 盖啥张: the seal's homophone
    (re.compile(r"中不中"), "行不行"),
    (re.compile(r"(?<=[^集其空卡核理请途心])中(?=不|吗|么)"), "行"),
    (re.compile(r"(?<=[就也能])中(?=$|[，,。？?！!\s])"), "行"),
    (re.compile(r"木有|没得|莫得|冇"), "没有"),
    (re.compile(r"晓得"), "知道"),
    (re.compile(r"(?:整|弄|搞)(?=[丢坏没])"), ""),
    # 整/弄/搞 for doing the business (去弄, 弄什么手续), not 整理/整个/弄明白 (整张卡 stays: adding a card)
    (re.compile(r"(?<=[去要得想来再先也])(?:整|弄|搞)(?!理|清|明|懂)|(?:整|弄|搞)(?=什么|手续|好了|完了)"), "办"),
    (
        re.compile(r"(公司|厂子|厂里|单位|企业)(?:也|都|就|要|准备)?(?:不(?:想)?(?:干|做|开)了|黄了|关门了)"),
        r"\1停业了",
    ),  # the company stops trading
    (re.compile(r"(?<=[坏瞎])球(?=了|啦)"), ""),  # 坏球了: broken
    (re.compile(r"名儿"), "名字"),
    (re.compile(r"地儿"), "地方"),
    (re.compile(r"(?<=[哪这那])儿"), "里"),
    (re.compile(r"(?<=[事点会边字号空头样块门片活啥])儿"), ""),
    (re.compile(r"搁哪"), "在哪"),
    (re.compile(r"银子|票子"), "钱"),
    (re.compile(r"(?<![多])多钱|几多钱"), "多少钱"),
)


# any of them, in one pattern: a text none of them matches is already written (most are), and stays as it is
_ANY_SPOKEN = re.compile("|".join(f"(?:{p.pattern})" for p in (_FILLERS, *(p for p, _ in _SPOKEN))))


# Russian typed in Latin letters (skolko dnei delaut kartu? / karta zablokirovalas, kak razblokirovat? 解锁 chto
# privozit?): read as the Cyrillic the vocabulary is written in. A text is taken for it when it has two words only
# Russian written in Latin letters has (question words, greetings, the card, documents …), or one and no English
# function word; each Latin word is then written in Cyrillic, except a word of Chinese syllables (zhika zhongxin, jiesuo:
# pinyin, read as the vocabulary spells it) and the few Latin words both languages type (usbkey, online, id).
_TRANSLIT_MARKER = re.compile(
    r"(?:chto|shto|chego|kak|kako[iey]|kakaya|kakuyu|kaki[ehx]\w*|skol+ko|skoko|skolka|skoka|gde|kuda|kogda|pochemu|zachem"
    r"|nuzhn\w*|nuzhen|nado|mozhno|mozhet|zdra\w*|privet|pozhal\w*|spasibo|podskazh\w*|skazhite|kart[auyoe]\w*"
    r"|dokument\w*|pasport\w*|s?dela[ltuy]\w*|dlya|seich?as|seychas|teper|esli|eto|ili|uzhe|rabota\w*|pechat\w*"
    r"|zayav\w*|litsenz\w*|kompani\w*|menya|mne|pomogite|pomoch|sdelat|poluchit\w*|oformi\w*|zabrat|vzyat|privez\w*"
    r"|privoz\w*|prinest\w*|nomer|adres\w*|telefon\w*|perevod\w*|operatora|zablok\w*|razblok\w*|poteryal\w*|slomal\w*)"
)
_ENGLISH_HINT = frozenset(
    "the a an is are was what how where which can could do does i we you my our to of for and please hi hello".split()
)
_LATIN_SHARED = frozenset("usbkey usb key ukey online id pdf jpg png ccb chinaport email wechat sms ok e-port eport".split())
_LATIN_WORD = re.compile(r"[a-z']+", re.IGNORECASE)
_TRANSLIT_UNIT = re.compile(r"tsya$|shch|sch|zh|kh|ch|sh|ts|yu|ju|ya|ja|yo|ye|je|'|[a-z]")
_TRANSLIT = {
    **dict(zip("abvgdezklmnoprstufhcxwqj", "абвгдезклмнопрстуфхцксвкй")),
    "x": "кс",
    "'": "ь",
    **{"shch": "щ", "sch": "щ", "zh": "ж", "kh": "х", "ch": "ч", "sh": "ш", "ts": "ц", "yu": "ю", "ju": "ю"},
    **{"ya": "я", "ja": "я", "yo": "е", "ye": "е", "je": "е", "tsya": "тся"},
}
_LATIN_VOWELS = frozenset("aeouy")  # (i after i stays и: manchzhurii)


_PINYIN_ONLY = re.compile(r"zh|x|q|ng|ao|ou|uo|ie|ui|ian")  # what pinyin has and Russian in Latin letters seldom


# Chinese syllables (pinyin without tones), as an initial and a final (a few more than Chinese has: enough to tell)
_SYLLABLES = frozenset(
    i + f
    for i in ["", "zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw"]
    for f in "iang iong uang ang eng ing ong ian iao uai uan ai ei ao ou an en er ia ie in iu ua uo ui un ue a o e i u v".split()
)


def _pinyin_word(word: str) -> bool:
    """Whether a word is two or more Chinese syllables (zhika, zhongxin, manzhouli)."""
    ends = {0: 0}  # position → syllables read up to it
    for i in range(len(word)):
        if i in ends:
            for k in range(1, 7):
                if word[i : i + k] in _SYLLABLES:
                    ends[i + k] = max(ends.get(i + k, 0), ends[i] + 1)
    return ends.get(len(word), 0) >= 2


def _cyrillic(word: str) -> str:
    out: list[str] = []
    units = _TRANSLIT_UNIT.findall(word.lower())
    for i, u in enumerate(units):
        before = units[i - 1] if i else ""
        after = units[i + 1] if i + 1 < len(units) else ""
        if u in ("i", "y"):
            vowel_before = before in _LATIN_VOWELS or (u == "y" and before == "i")
            if vowel_before and not (after in _LATIN_VOWELS or after == "i"):
                out.append("й")  # (dnei, zdravstvuite, kakoy: a diphthong's й)
            else:
                out.append("и" if u == "i" else "ы")
        else:
            out.append(_TRANSLIT.get(u, u))
    return "".join(out)


def translit_russian(text: str) -> str:
    """Russian typed in Latin letters, written in Cyrillic (anything else is returned as it is)."""
    words = _LATIN_WORD.findall(text)
    if not words:
        return text
    lower = [w.lower() for w in words]
    markers = sum(1 for w in lower if _TRANSLIT_MARKER.fullmatch(w))
    if not markers or (markers < 2 and any(w in _ENGLISH_HINT for w in lower)):
        return text

    def written(m: re.Match[str]) -> str:
        w = m.group(0).lower()
        if w in _LATIN_SHARED or (_PINYIN_ONLY.search(w) and _pinyin_word(w) and not _TRANSLIT_MARKER.fullmatch(w)):
            return m.group(0)
        return _cyrillic(w)

    return _LATIN_WORD.sub(written, text)


# spoken Russian as written (скока дней, чё надо, щас): the words the vocabulary is written in
_SPOKEN_RU = (
    (re.compile(r"(?<![а-яё])(?:скок[ао]?|скоко|сколька)(?![а-яё])", re.IGNORECASE), "сколько"),
    (re.compile(r"(?<![а-яё])(?:ч[её]|чо|шо|што)(?![а-яё])", re.IGNORECASE), "что"),
    (re.compile(r"(?<![а-яё])щас(?![а-яё])", re.IGNORECASE), "сейчас"),
    (re.compile(r"(?<![а-яё])нада(?![а-яё])", re.IGNORECASE), "надо"),
    (re.compile(r"(?<![а-яё])(?:тока|ток)(?![а-яё])", re.IGNORECASE), "только"),
    # a yes-or-no tag (… печатью компании или нет?): not "no licence"
    (re.compile(r"[,\s]*(?<![а-яё])или нет(?![а-яё])", re.IGNORECASE), ""),
)


def spoken_russian(text: str) -> str:
    """Spoken Russian as written (скока → сколько, чё → что, щас → сейчас); other text as it is."""
    if not _CYRILLIC.search(text.lower()):
        return text
    for pattern, written in _SPOKEN_RU:
        text = pattern.sub(written, text)
    return text


def spoken(text: str) -> str:
    """Spoken and dialect Chinese as the written forms (fillers dropped, 俺/咋/啥/中不中/整/弄, 儿化), and Russian
    typed in Latin letters as Cyrillic (``translit_russian``), spoken Russian as written (``spoken_russian``): what the
    vocabulary is written in."""
    text = spoken_russian(translit_russian(text))
    if not _ANY_SPOKEN.search(text):
        return text  # (no Chinese, or none of the spoken forms: nothing is replaced)
    text = _FILLERS.sub("", text)
    for pattern, written in _SPOKEN:
        text = pattern.sub(written, text)
    return text


def normalise(text: str) -> str:
    """The question as it is read: cut to MAX_QUESTION, NFKC, lower case, ё → е, traditional
    characters simplified, spoken forms written (``spoken``), white space collapsed."""
    text = spoken(unicodedata.normalize("NFKC", text[:MAX_QUESTION]).lower().replace("ё", "е").translate(_TRADITIONAL))
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=2)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(lang)


# words whose tense is the meaning: a certificate that expired (its card's reissue) is not one that expires (a renewal)
KEEP_TENSE = frozenset({"expired"})


def _stem(word: str) -> str:
    if word in KEEP_TENSE:
        return word
    return _stemmer("russian" if _CYRILLIC.search(word) else "english").stemWord(word)


@lru_cache(maxsize=1)
def _pinyin() -> Pinyin:
    return Pinyin()


@lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """How a Chinese character is read (pinyin without tones, every reading): 吃 and 赤 are both "chi"."""
    if not _CJK_CHAR.fullmatch(char):
        return frozenset()  # (not a Chinese character: no reading)
    return frozenset(_pinyin().get_pinyins(char, splitter="", tone_marks=None))


def sounds_alike(typed: str, word: str) -> bool:
    """Whether each character typed reads like the word's (a homophone typed by pinyin input or voice)."""
    return all(a == b or readings(a) & readings(b) for a, b in zip(typed, word))


def _initials(char: str) -> set[str]:
    return {r[:2] if r[:2] in ("zh", "ch", "sh") else r[:1] for r in readings(char)}


def sounds_near(typed: str, meant: str) -> bool:
    """Whether a character typed could be a slip for the one meant: both read alike or begin with the same
    sound (通了 for 通辽: le, liao); a character with no reading (a traditional or rare one) may be."""
    a, b = readings(typed), readings(meant)
    return not a or not b or bool(a & b) or bool(_initials(typed) & _initials(meant))


MAX_SOUNDS = 8  # readings of a word considered (a word of many heteronyms is not looked up by sound)


@lru_cache(maxsize=16384)
def _sounds(text: str) -> tuple[tuple[str, ...], ...]:
    """Every way a run of Chinese characters can be read (at most MAX_SOUNDS; none if a character has no reading)."""
    out: list[tuple[str, ...]] = [()]
    for char in text:
        read = readings(char)
        if not read:
            return ()
        out = [(*o, r) for o in out for r in sorted(read)]
        if len(out) > MAX_SOUNDS:
            return ()
    return tuple(out)


def _route(target: str, first_step: str | None) -> str:
    route = Route.parse(target)
    kind, name = route.screen, route.arg
    if kind == "screen":
        return name
    if kind == "online":
        return f"walk:{first_step if name == 'start' else name}"
    return target


class Analyzer:
    """Turns text into index terms: concepts, character bigrams, stems.

    ``synonyms``: concept id → words (segmentation dictionary); ``dictionary``: the
    vocabulary and names a mistyped Chinese word is corrected to; ``weights``: concept id →
    how many times it counts in a question; ``correct_to_synonyms``: a mistyped word may be corrected to
    a synonym too (not only to the dictionary); ``homophones_to_synonyms``: a word typed with homophones
    may (the default)."""

    def __init__(
        self,
        synonyms: dict[str, list[str]],
        dictionary: list[str],
        weights: dict[str, int] | None = None,
        *,
        correct_to_synonyms: bool = True,
        homophones_to_synonyms: bool = True,
    ):
        self._local = threading.local()  # the texts read inside ``remembering``
        norm = lru_cache(maxsize=None)(normalise)  # (the same words come in several lists: each normalised once)
        self.concepts = list(synonyms)
        self.concept_char = {cid: chr(_CONCEPT_BASE + i) for i, cid in enumerate(synonyms)}
        self.repeat = {self.concept_char[c]: w for c, w in (weights or {}).items() if w > 1 and c in self.concept_char}
        self._cjk = ahocorasick.Automaton()
        self._mixed: list[tuple[str, str]] = []  # words mixing Latin and Chinese (u盾) → concept char
        self._exact: dict[str, str] = {}  # single Latin/Cyrillic words → concept char, before stemming
        self._phrases: dict[tuple[str, ...], str] = {}  # stemmed word sequence -> concept char
        self._longest_phrase = 1
        self._ru_prefix: dict[str, str] = {}  # the first RU_PREFIX letters of a Russian word's stem → concept char
        for i, (cid, words) in enumerate(synonyms.items()):
            char = chr(_CONCEPT_BASE + i)
            for w in words:
                w = norm(w)
                if _CJK_CHAR.search(w) and re.search(r"[a-zа-я]", w) and len(w) >= 2:
                    # mixed like "u盾", "ic卡": the Latin part is a run of its own, so the word is read whole first
                    self._mixed.append((w, char))
                if _CJK_WORD.fullmatch(w) or _CJK_CHAR.search(w) and len(w) >= 2:
                    # Chinese (or mixed like "u盾"): replaced inside the run
                    self._cjk.add_word(w, (len(w), char))
                else:
                    stems = tuple(_stem(x) for x in re.findall(r"[a-zа-я0-9'+-]+", w))
                    if re.fullmatch(r"[a-zа-я0-9'+-]+", w):
                        self._exact[w] = char  # the word as typed wins over its stem (accountant is not account)
                    if stems:
                        self._phrases[stems] = char
                        self._longest_phrase = max(self._longest_phrase, len(stems))
                    if len(stems) == 1 and _CYRILLIC.search(w) and len(stems[0]) >= RU_PREFIX:
                        # a Russian word by its first letters too: the stemmer leaves verb forms apart
                        # (аннулирую / аннулировать); a prefix two concepts share names neither
                        key = stems[0][:RU_PREFIX]
                        self._ru_prefix[key] = char if self._ru_prefix.get(key, char) == char else ""
        self._cjk.make_automaton()
        self.known_words: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._typo_bands: dict[int, list[str]] = {}  # word length → the known words it may be a typo of
        self.known_bigrams: frozenset[str] = frozenset()
        # typo correction aims at the dictionary and the synonyms, as written (not canonicalised)
        targets = [*dictionary, *(w for ws in synonyms.values() for w in ws)] if correct_to_synonyms else dictionary
        # the words as they are (a word typed whole is not the typo of a longer one: 当操作员 is not 加操作员)
        self.words = {
            w for w in (norm(x) for x in [*dictionary, *(w for ws in synonyms.values() for w in ws)]) if _CJK_WORD.fullmatch(w)
        }
        fuzzy = sorted({w for w in (norm(x) for x in targets) if len(w) >= 2 and _CJK_WORD.fullmatch(w)})
        self._fuzzy_by_len = {n: [w for w in fuzzy if len(w) == n] for n in range(3, 7)}
        self._fuzzy_by_len = {n: ws for n, ws in self._fuzzy_by_len.items() if ws}
        # each such word under each of its characters left out (营业执_ → 营业执照): the words one character away
        # from a piece of a question are found by looking its keys up (by their place in the list of their length)
        self._one_off: dict[tuple[int, str], list[int]] = {}
        for ws in self._fuzzy_by_len.values():
            for j, w in enumerate(ws):
                for k in range(len(w)):
                    self._one_off.setdefault((k, w[:k] + w[k + 1 :]), []).append(j)
        # homophones (吃峰 → 赤峰, 见行 → 建行): also the two-character words, a sound being stricter than a shape
        # (a sound is strict enough to aim at every synonym: 共想盾 → 共享盾, where a shape aims at names only)
        # (a two-character word only when it is a name — 赤峰, 建行 —, never a phrase of a question: 些啥 is not 写啥;
        # nor a verb with its particle: 两半了 is not 两搬了)
        names = {norm(x) for x in dictionary}
        sound_targets = [*dictionary, *(w for ws in synonyms.values() for w in ws)] if homophones_to_synonyms else targets
        sound = sorted(
            {
                w
                for w in (norm(x) for x in sound_targets)
                if _CJK_WORD.fullmatch(w) and (len(w) >= 3 or (len(w) == 2 and w in names and not set(w) & PARTICLES))
            }
        )
        # by sound: every reading of the word (行 is xing or hang) → the word
        self._by_sound: dict[tuple[str, ...], list[str]] = {}
        for w in sound:
            if len(w) <= 6:
                for key in _sounds(w):
                    self._by_sound.setdefault(key, []).append(w)
        self._sound_lengths = sorted({len(k) for k in self._by_sound}, reverse=True)

    @staticmethod
    def is_concept(term: str) -> bool:
        """Whether a term is a synonym group's concept character rather than a word or bigram."""
        return len(term) == 1 and _CONCEPT_BASE <= ord(term) < _CONCEPT_BASE + 0x1000

    def canonical_run(self, run: str) -> str:
        """Replace synonyms (leftmost longest) by their concept characters."""
        if not run or not len(self._cjk):
            return run
        # every occurrence, then leftmost-longest (pyahocorasick's iter_long misses a short word inside an
        # unfinished longer one: 带 in 要带ukey, where 要带啥 is a word)
        found = sorted((end - length + 1, -length, char) for end, (length, char) in self._cjk.iter(run))
        out, pos = [], 0
        for start, neg, char in found:
            if start < pos:
                continue
            out.append(run[pos:start])
            out.append(char)
            pos = start - neg
        out.append(run[pos:])
        return "".join(out)

    def fix_typo(self, run: str) -> str:
        """Correct a mistyped dictionary word: homophones typed by pinyin or voice (吃峰见行 → 赤峰建行,
        one character in a two-character word, two in a longer one), then one wrong character of any
        shape (营业执招 → 营业执照).

        Looked for only where the run has a bigram that no document uses; the wrong
        character must be where that unknown bigram is."""
        places = self._typo_places(run)
        if not any(places):
            return run
        fixed = self._fix_homophones(run, places)
        if fixed != run:
            return fixed
        return self._fix_shape(run, places)

    def _typo_places(self, run: str) -> list[bool]:
        """For each character of the run, whether it may be a wrong one: every bigram it is part of is one no
        document uses."""
        unknown = [run[i : i + 2] not in self.known_bigrams for i in range(len(run) - 1)]
        if len(run) < 2:
            return [False] * len(run)
        return [(p == 0 or unknown[p - 1]) and (p == len(run) - 1 or unknown[p]) for p in range(len(run))]

    def _fix_homophones(self, run: str, places: list[bool]) -> str:
        """Every word typed with homophones where the run has bigrams no document uses (longest first):
        one character of a word of two or three, two of a longer one."""
        out = run
        by_sound = self._by_sound
        for n in self._sound_lengths:
            limit = 1 if n <= 3 else 2
            for start in range(len(out) - n + 1):
                if not any(places[start : start + n]):
                    continue  # (no character of the piece can be a wrong one)
                window = out[start : start + n]
                for key in _sounds(window):
                    words = by_sound.get(key)
                    word = next((w for w in words if w != window), None) if words else None
                    if word is None:
                        continue
                    diff = [start + k for k in range(n) if window[k] != word[k]]
                    if len(diff) > limit or any(out[p] in NEVER_SWAPPED or word[p - start] in NEVER_SWAPPED for p in diff):
                        continue
                    # every bigram a replaced character is part of is one no document uses
                    if all(places[p] for p in diff):
                        out = out[:start] + word + out[start + n :]
                        places = self._typo_places(out)
                        break
        return out

    def _fix_shape(self, run: str, places: list[bool]) -> str:
        """One wrong character of a dictionary word, of three characters or more (营业执招 → 营业执照)."""
        wrong = [p for p, may in enumerate(places) if may]
        for n in sorted(self._fuzzy_by_len, reverse=True):
            # the words one character off a piece of the run, that character being one of the run's possible wrong
            # ones (every bigram the wrong character is part of is unknown)
            for start, word, k in self._one_character_off(run, n, wrong):
                p = start + k
                # (in a three-character word not the first one: 操做员, 共享顿, not 他的卡 for 我的卡)
                # (and never a particle: 办理吗 is not 办理人)
                # (nor a word typed whole after another character: 当操作员 is 当 + 操作员, not 加操作员;
                # at the end a look-alike is a typo: 法定代表仁 is 法定代表人)
                whole = k == 0 and word[1:] in self.words
                # (and the character typed sounds near the one meant — an input method's slip, 通了 for 通辽 —, or
                # is a look-alike inside a long word anchored by its first character (丢失补力): 会计离职 is not
                # 我离职, 公司要 is not 公司名)
                near = sounds_near(run[p], word[k]) or (n >= 4 and k > 0)
                who = run[p] in PERSON_CHARS or word[k] in PERSON_CHARS  # (小王离职了 is not 小我离职了)
                if not whole and not who and near and (n > 3 or k == 1 or (k == 2 and run[p] not in PARTICLES)):
                    return run[:start] + word + run[start + n :]
        return run

    def _one_character_off(self, run: str, n: int, wrong: list[int]) -> list[tuple[int, str, int]]:
        """The words of ``n`` characters that differ from a piece of the run in exactly one character, at one of the
        places ``wrong``: (where the piece starts, the word, the place in it), by piece, then in the words' order."""
        words, one_off = self._fuzzy_by_len[n], self._one_off
        found = [
            (start, j, p - start)
            for p in wrong
            for start in range(max(0, p - n + 1), min(p, len(run) - n) + 1)
            for j in one_off.get((p - start, run[start:p] + run[p + 1 : start + n]), ())
        ]
        found.sort()
        return [(start, words[j], k) for start, j, k in found if words[j] != run[start : start + n]]

    def _cjk_terms(self, run: str, correct: bool = False) -> list[str]:
        return self._remembered(("run", run, correct), lambda: self._run_terms(run, correct))

    def _run_terms(self, run: str, correct: bool) -> list[str]:
        if correct and self._fuzzy_by_len and len(run) >= 3:
            run = self.fix_typo(run)
        run = self.canonical_run(run)
        terms = [c for c in run if self.is_concept(c)]
        if len(run) >= 2:
            terms += [run[i : i + 2] for i in range(len(run) - 1)]
        return terms

    def _word_terms(self, words: list[str], correct: bool) -> list[str]:
        out: list[str] = []
        stems: list[str] = []
        for w in words:
            if correct and w not in self._known and f"{w}ь" in self._known:
                w = f"{w}ь"  # the soft sign left out (печат, делат: typed fast, or Russian in Latin letters)
            elif (
                correct
                and w not in self._known
                and w not in STOP_WORDS
                and w not in NEVER_TYPOS
                and len(w) >= 4
                and not w.isdigit()
            ):
                hit = process.extractOne(w, self._typo_targets(len(w)), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
                # a typo, not another word ("almost" is not "lost"; a typo keeps the first letter: "slot" is not "lost")
                if hit and abs(len(hit[0]) - len(w)) <= 1 and hit[0][0] == w[0]:
                    w = hit[0]
            stems.append(_stem(w))
        i = 0
        while i < len(stems):
            for n in range(min(self._longest_phrase, len(stems) - i), 0, -1):
                char = self._phrases.get(tuple(stems[i : i + n]))
                if n == 1 and words[i] in self._exact:
                    char = self._exact[words[i]]  # a word of its own, whatever its stem also names
                if char:
                    out.append(char)
                    i += n
                    break
            else:
                prefix = self._ru_prefix.get(stems[i][:RU_PREFIX]) if len(stems[i]) >= RU_PREFIX else None
                if prefix and _CYRILLIC.search(words[i]):
                    out.append(prefix)
                elif words[i] not in STOP_WORDS and not (words[i].isdigit() and len(words[i]) <= 2):
                    out.append(stems[i])  # (a lone small number means nothing outside a phrase)
                i += 1
        return out

    @contextmanager
    def remembering(self) -> Iterator[None]:
        """Inside the block, a text read again (the reader reads a question, its asks and its clauses in
        several passes) is not read twice; on leaving, everything is forgotten, so nothing is kept from one
        question to the next. Per thread; a block inside another is part of it."""
        local = self._local
        if getattr(local, "memo", None) is not None:
            yield
            return
        local.memo = {}
        try:
            yield
        finally:
            local.memo = None

    def _typo_targets(self, length: int) -> list[str]:
        """The known words a word of ``length`` letters may be a typo of, in their order: fuzz.ratio is at most
        twice the shorter length over the sum of both, so a word much longer or shorter never reaches FUZZY_CUTOFF
        (it is never the best match; leaving it out saves comparing with it)."""
        band = self._typo_bands.get(length)
        if band is None:
            band = self._typo_bands[length] = [
                k for k in self.known_words if 200 * min(len(k), length) >= FUZZY_CUTOFF * (len(k) + length)
            ]
        return band

    def terms(self, text: str, *, correct: bool = True) -> list[str]:
        """The index terms of a text (concepts, Chinese bigrams, stemmed words), typos corrected
        unless ``correct`` is False; questions and documents are read alike."""
        return self._remembered(("text", text, correct), lambda: self._terms(text, correct))

    def _remembered(self, key: tuple[str, str, bool], read: Callable[[], list[str]]) -> list[str]:
        """``read()``, or what it gave for the same key before inside ``remembering`` (a text, or a Chinese run
        — clauses and asks repeat the question's runs)."""
        memo = getattr(self._local, "memo", None)
        if memo is None:
            return read()
        known = memo.get(key)
        if known is None:
            known = memo[key] = tuple(read())
        return list(known)

    def _terms(self, text: str, correct: bool) -> list[str]:
        text = normalise(text)
        out: list[str] = []
        for word, char in self._mixed:  # (u盾: "u" and "盾" would be two runs)
            if word in text:
                out += [char] * text.count(word)
                text = text.replace(word, " ")
        words: list[str] = []
        for m in _RUNS.finditer(text):
            run = m.group(0)
            if _CJK_CHAR.match(run):
                if words:
                    out += self._word_terms(words, correct)
                    words = []
                out += self._cjk_terms(run, correct)
            else:
                words.append(run.strip("'.-+"))
        if words:
            out += self._word_terms(words, correct)
        if correct and self.repeat:  # a question: names that matter more count more than once
            out += [t for t in out for _ in range(self.repeat.get(t, 1) - 1)]
        return out

    def learn_words(self, texts: list[str]) -> None:
        """The Latin/Cyrillic words of the documents: typo corrections aim at these."""
        normalised = {normalise(t) for t in set(texts)}
        known: set[str] = set()
        for t in normalised:
            for m in _RUNS.finditer(t):
                w = m.group(0).strip("'.-+")
                if not _CJK_CHAR.match(w) and len(w) >= 3 and not w.isdigit():
                    known.add(w)
        self._known = frozenset(known)
        self.known_words = sorted(known)
        self._typo_bands = {}
        bigrams: set[str] = set()
        for t in normalised:
            for run in _CJK_RUN.findall(t):
                bigrams.update(run[i : i + 2] for i in range(len(run) - 1))
        self.known_bigrams = frozenset(bigrams) | COMMON_BIGRAMS


class Postings:
    """The BM25 score each term gives each document it occurs in, worked out once when the index is built
    (term → the documents' positions and their scores), so scoring a question adds up a few short arrays
    instead of looking every term up in every document. The same Okapi formula, parameters and order of
    additions as ``BM25Okapi.get_scores``, so the scores are the same to the last bit."""

    def __init__(self, bm25: BM25Okapi):
        self.size = bm25.corpus_size
        doc_len = np.array(bm25.doc_len)
        # (the length normalisation as rank-bm25 writes it, per document)
        norm = bm25.k1 * (1 - bm25.b + bm25.b * doc_len / bm25.avgdl)
        docs: dict[str, list[int]] = {}
        freqs: dict[str, list[int]] = {}
        for d, frequencies in enumerate(bm25.doc_freqs):
            for term, f in frequencies.items():
                docs.setdefault(term, []).append(d)
                freqs.setdefault(term, []).append(f)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, where in docs.items():
            at = np.array(where)
            q_freq = np.array(freqs[term])
            score = (bm25.idf.get(term) or 0) * (q_freq * (bm25.k1 + 1) / (q_freq + norm[at]))
            self._postings[term] = (at, score)

    def scores(self, terms: list[str]) -> np.ndarray:
        """Every document's BM25 score for the terms (a term repeated counts again; one no document has, nothing)."""
        score = np.zeros(self.size)
        for term in terms:
            posting = self._postings.get(term)
            if posting is not None:
                score[posting[0]] += posting[1]
        return score


def documents(kb: Knowledge) -> dict[str, list[str]]:
    """Every route the matcher can answer with, and the texts that describe it."""
    docs: dict[str, list[str]] = {}

    def add(route: str, *texts: str) -> None:
        docs.setdefault(route, []).extend(t for t in texts if t)

    for b in kb.businesses.values():
        add(f"topic:{b.id}", b.name, b.name, "材料")  # a business screen lists what to bring
    for c in kb.categories.values():
        add(f"category:{c.id}", c.name)
    for m in kb.materials.values():
        add(f"material:{m.id}", m.name)
    for city in kb.cities:
        add(f"city:{city}", city, city, "地址", "电话")  # the city screen gives addresses and phones
    for o in kb.offices.values():
        add(f"city:{o.city}", o.name)
    first_step = kb.steps[0].id if kb.steps else None
    for v in kb.vocabulary:
        route = _route(v.target, first_step)
        repeat = 2 if v.weight >= 1.3 else 1
        for t in v.terms:
            add(route, *([t] * repeat))
    annotations = [x.text for x in kb.annotations.values()]
    for a in kb.answers.values():
        q = a.questions
        add(f"answer:{a.id}", a.title.zh, a.title.ru, a.title.en, *q.zh, *q.ru, *q.en)
        add(f"answer:{a.id}", *(t for t in annotations if t in a.plain.zh))  # the wording it is about
    return docs


def related_routes(kb: Knowledge) -> dict[str, frozenset[str]]:
    """Routes that answer the same question at two levels: a fact and its business (or the
    screen behind its "full answer" button), a business and its category."""
    pairs: set[tuple[str, str]] = set()
    # (not a category: a bare "补办" gets the category's businesses as suggestions)
    for a in kb.answers.values():
        route = f"answer:{a.id}"
        if not a.see.startswith("category:"):
            pairs.add((route, a.see))
            if a.see == "online" or a.see.startswith("walk:"):
                pairs.update((route, r) for r in ("online", *(f"walk:{s.id}" for s in kb.steps)))
        if len(a.businesses) == 1:
            pairs.add((route, f"topic:{a.businesses[0]}"))
    pairs.update(("online", f"walk:{s.id}") for s in kb.steps)  # the online screen and its walkthrough
    out: dict[str, set[str]] = {}
    for x, y in pairs:
        out.setdefault(x, set()).add(y)
        out.setdefault(y, set()).add(x)
    return {k: frozenset(v) for k, v in out.items()}


class Matcher:
    """Ranks every route's document against a free-text question (BM25 over the Analyzer's
    terms) and says whether the best is answered directly or offered as a suggestion."""

    def __init__(self, kb: Knowledge):
        self.kb = kb
        self._memo: dict[str, MatchResult] = {}
        docs = documents(kb)
        synonyms = {g.id: g.words for g in kb.synonyms}
        dictionary = [t for v in kb.vocabulary for t in v.terms] + [b.name for b in kb.businesses.values()]
        dictionary += [m.name for m in kb.materials.values()] + list(kb.cities) + [o.name for o in kb.offices.values()]
        self.analyzer = Analyzer(synonyms, dictionary, {g.id: g.weight for g in kb.synonyms})
        self.analyzer.learn_words([t for texts in docs.values() for t in texts] + [w for ws in synonyms.values() for w in ws])
        self.routes = list(docs)
        with self.analyzer.remembering():  # (a text some routes share is read once)
            corpus = [[term for t in docs[r] for term in self.analyzer.terms(t, correct=False)] or ["\x00"] for r in self.routes]
        self._bm25 = BM25Okapi(corpus, k1=BM25_K1, b=BM25_B)
        self._postings = Postings(self._bm25)
        self._related = related_routes(kb)
        # the screens a fact belongs to: behind its "full answer" button, or its one business
        self._home = {
            f"answer:{a.id}": {a.see, *(f"topic:{b}" for b in a.businesses[:1] if len(a.businesses) == 1)}
            for a in kb.answers.values()
        }
        self._silent = np.array([r.startswith("answer:") and kb.answers[Route.parse(r).arg].silent for r in self.routes])
        self._jiangsu = np.array(
            [r.startswith("answer:") and kb.answers[Route.parse(r).arg].region == "jiangsu" for r in self.routes]
        )
        # holder vs company: what only concerns a holder acting personally needs a sign of it
        self._holder_cue = self.analyzer.concept_char.get("holder")
        holder_topics = {b.id for b in kb.businesses.values() if b.audience == "holder"}
        holder_materials = {
            m
            for m in kb.materials
            if all(b.id in holder_topics for b in kb.businesses.values() if any(r.material == m for r in b.materials))
        }
        self._holder_only = np.array(
            [
                (r.startswith("topic:") and Route.parse(r).arg in holder_topics)
                or (r.startswith("material:") and Route.parse(r).arg in holder_materials)
                or (
                    r.startswith("answer:")
                    and bool(kb.answers[Route.parse(r).arg].businesses)
                    and set(kb.answers[Route.parse(r).arg].businesses) <= holder_topics
                )
                for r in self.routes
            ]
        )
        self._idf = self._bm25.idf
        self._typical_idf = 0.5 * sorted(self._idf.values())[len(self._idf) // 2]  # for words no document has
        self._off_topic_idf = 10 * max(self._idf.values())
        self._off_topic = {self.analyzer.concept_char[g.id] for g in kb.synonyms if g.off_topic}

    def match(self, question: str) -> MatchResult:
        """The answer to a question. Asking the same text again gets the same result (the matcher
        is pure for its knowledge): the last MEMO_SIZE questions are answered from memory."""
        result = self._memo.get(question)
        if result is None:
            result = self.compute(question)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[question] = result
        return result

    def _scores(self, terms: list[str]):
        scores = self._postings.scores(terms)
        scores = np.where(self._jiangsu, scores * JIANGSU_FACTOR, scores)
        scores = np.where(self._silent, scores * SILENT_FACTOR, scores)
        if self._holder_cue:
            factor = HOLDER_PENALTY if self._holder_cue not in terms else 1 / HOLDER_PENALTY
            scores = np.where(self._holder_only, scores * factor, scores)
        return scores

    def route_scores(self, question: str) -> dict[str, float]:
        """Every route's score for the question (the reader ranks an aspect's answers with it)."""
        terms = [t for t in self.analyzer.terms(question) if t in self._idf]
        if not terms:
            return {}
        return {r: s for r, s in zip(self.routes, self._scores(terms).tolist()) if s > 0}

    def compute(self, question: str) -> MatchResult:
        """Score every route for the question (what ``match`` remembers)."""
        all_terms = self.analyzer.terms(question)
        terms = [t for t in all_terms if t in self._idf]
        if not terms:
            return MatchResult(question, (), 0.0)
        scores = self._scores(terms)
        order = scores.argsort()[::-1][:8]
        ranked = tuple(Match(self.routes[i], round(float(scores[i]), 3)) for i in order if scores[i] > 0)
        coverage, rival = 0.0, None
        if ranked:
            # a fact and the business it belongs to do not compete: either screen answers
            near = self._related.get(ranked[0].route, frozenset())
            if (
                ranked[0].route.startswith("answer:")
                and len(ranked) > 1
                and ranked[1].route in self._home.get(ranked[0].route, ())
                and ranked[0].score < MARGIN * ranked[1].score
            ):
                # a near tie between a fact and the screen it belongs to: the broader screen
                ranked = (ranked[1], ranked[0], *ranked[2:])
                order = [order[1], order[0], *order[2:]]
                near = self._related.get(ranked[0].route, frozenset())
            rival = next((m.score for m in ranked[1:] if m.route not in near), 0.0)
            best = self._bm25.doc_freqs[order[0]]
            # a word no document has counts as half a typical one; an off-topic word (签证, visa)
            # says the question is about something else
            weight = {
                t: max(self._idf.get(t, self._off_topic_idf if t in self._off_topic else self._typical_idf), 0.1)
                for t in all_terms
            }
            coverage = sum(w for t, w in weight.items() if t in best) / sum(weight.values())  # distinct terms
        return MatchResult(question, ranked, round(coverage, 3), rival)
