"""Reading a question as parts, then deciding what answers it.

A question is read, each part on its own, as

- the *business* it is about (one of the 13, or none): the vocabulary's words for each
  business (公司改名 → change_name);
- the *aspects* it asks about (knowledge/data/vocabulary.yaml ``aspects``: the seal, the
  annotation wording, ID documents, the phone, a silent topic such as fees …); an aspect made
  of others (``when``: 公章 + 彩色) replaces them;
- *who acts* (a holder acting personally, or the company) and *region hints* (a city of
  Inner Mongolia, 江苏).

``Reader.plan`` turns the parts into what to show: one or more answer routes (each aspect's
answer for the business, or the best of the aspect's answers by the ranking), the business's
first screen, the flow's own question "which business?" when an aspect depends on the business
and none is named, or nothing (the caller falls back to the ranking's suggestions). The words
are matched by the matcher's Analyzer (Aho–Corasick for Chinese, stems for Russian and English,
one wrong character corrected), so the reader and the ranking read text alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from knowledge import Knowledge

from .matcher import Analyzer, Matcher, MatchResult, spoken
from .routes import Route

MAX_ANSWERS = 3  # answers composed into one message
HOLDER_GROUP = "holder"  # the synonyms group whose words say a holder acts personally
LEAVE_GROUP = "leave"  # … and the one saying someone left the company (我是持卡人，离职了)
JIANGSU_TARGET = "fact:jiangsu_materials"  # the vocabulary entry whose words name Jiangsu
PLACE_ASPECTS = ("where", "bank", "centre")  # a clause asking about a place
NEARBY = re.compile(r"рядом|поблизости|недалеко|\bnear(?:by)?\b|\bclose to\b|附近|旁边|边上", re.IGNORECASE)
PLACE_ASKED = re.compile(r"where|address|location|где|куда|адрес|在哪|哪里|哪儿|哪个|地址|位置|几楼|怎么走", re.IGNORECASE)
CARRIED_THINGS = frozenset({"key", "shared_dun"})  # what a later ask's price refers back to (how much is it?)
PERSON_DOCS = frozenset({"agent", "person_id"})  # aspects naming a person (whose ID), not a paper of their own
PERSONS = frozenset({"legal_rep", "agent", "operator", "cardholder", "holder"})  # groups naming whose ID it is
EVENTS = frozenset({"changed", "add", "register"})  # synonym groups saying what happened, besides the distinctive ones
PLACES = frozenset({"city_manzhouli", "city_hulunbuir", "city_chifeng", "city_tongliao", "city_ulanhot"})
SOUND_NOUNS = frozenset(
    {"seal", "refused_seal", "signer", "annotation"}
)  # aspects whose two-character nouns a homophone is corrected to
# beside an aspect that asks whose answer (the seal, the wording, who signs), an ask the same for both (handwritten? must
# it?) leaves it open; a copy named (复印件上盖哪个章) is the company's copies, unless the ask is whether a seal is
# needed at all (复印件上要盖公章不: the holder's copy has none); a wording quoted (同意…) names whose it is
WHO_OPEN = frozenset({"handwritten", "required"})
# (… or the annotation itself asked for — 签注写什么, 那句话是啥, 原话 — each wording; or where on the page — 盖哪嘎达: the company's copies)
COPY_NAMED = re.compile(r"复印|copy|copies|копи|ксерокопи|签注|同意|那句|原话|盖(?:在)?哪(?![个种样一])", re.IGNORECASE)
SEAL_WHETHER = re.compile(r"(?:要|得|需要|用)盖[^，,。？?\s]{0,4}(?:吗|么|嘛|不)|盖不盖|要不要盖|用不用盖|需不需要盖")
SEAL = "seal"
MAIN = "main"  # the main menu: every business
ONLINE = "online"  # the aspect of applying online (weak: a word of many stories)
ONLINE_APPLY, ONLINE_PICKUP = "answer:online_apply", "answer:online_pickup"  # applying online; collecting the card after it
ONSITE_WHERE = "answer:onsite_where"  # where to apply in person
NO_VISIT = "no_visit"  # the aspect of doing it without going there (vocabulary)
GO_IN = "go_in"  # … and the cue of where to go in (the site, when applying online)
BARE_CONCEPTS = frozenset({"eport_card", "company"})  # concepts that tell no situation (这个卡咋办, 我们公司咋办)
SILENT_ASIDE = 5  # a silent topic is set aside when the ranking weighs its answer at under 1/5 of a documented fact's
CLEAR_RANKING = 8.0  # a ranking score that says the words name something without the reader's parts
PROCESS = "process"  # the aspect of the procedure: asked back, then the business's first screen
HOW = "how"  # the aspect of what to do (怎么办, 去办啥): a business's first screen
SCOPE = "scope"  # the aspect of what a kind of business covers: its answers, one per kind
PHONE = "phone"  # the aspect of a phone number: the hotline, or the offices of a city named
OUTSIDE_TOLD = "outside_situation"  # … a situation outside them (two companies, no branch in China), kept from the story
OUTSIDE = "outside"  # the aspect of a topic neither document covers: the hotline alone answers it
# clauses of a question: a second ask (另外/顺便/还有 …) is a clause of its own
CLAUSE = re.compile(r"[，,。？?！!；;、\s]+|另外|顺便问下|顺便问一下|顺便|还有就是|还有|and also|also|кроме того|ещё|еще")
SENTENCE = re.compile(r"[.?!;]+\s*")  # … of a question in Russian or English
CJK = re.compile(r"[\u4e00-\u9fff]")
CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
# a clause that asks (the others tell the situation: 卡放了好几年没用，早就过期了，现在还能办吗)
# a clause asking whether the business itself must be done (法人换了要办变更吗): its first screen is shown too
ASKS_BUSINESS = re.compile(
    r"(?:要|需要|得|用不用|要不要|是否要)(?:去)?办(?:理)?(?:变更|注销|补办|业务|手续)?(?:吗|么|嘛|不)"
    r"|(?:要|需要|得|用不用|要不要)(?:去)?(?:注销|销)掉?(?:吗|么|嘛|不)"
    r"|do (?:we|i) (?:need|have) to (?:update|change|do)|нужно ли (?:что-то )?(?:менять|делать|оформлять)",
    re.IGNORECASE,
)
ASKING = re.compile(
    r"[吗么嘛呢？?谁咋]|什么|啥|哪|(?<!好)几|怎|多少|多久|多长|多大|如何|能不能|可不可以|行不行|能否|可否|是否|有没有|"
    r"要不要|用不用|可以|还是|是不是|对不对|对吧|不$|没$"
)  # (A还是B: a choice asked)


# a Russian or English sentence that asks: it ends with "?" or opens with a question word (the others tell the
# situation: "Our operator typed the wrong password. What do we need to unlock it?")
LATIN_SENTENCE = re.compile(r"[^.?!;\n]+[.?!;]*")
LATIN_ASKS = re.compile(
    r"\?\s*$|^\s*(?:hi|hello|dear \w+|здравствуйте|добрый день|привет)?[,!\s]*"
    r"(?:what|how|where|which|who|whom|whose|when|why|can|could|do|does|did|is|are|should|must|may|will|would|have|has|"
    r"any|please|tell|как|что|где|какой|какая|какое|какие|когда|куда|сколько|можно|нужно ли|нужен ли|нужна ли|надо ли|"
    r"должен|должна|должны|есть ли|подскажите|скажите)\b",
    re.IGNORECASE,
)


def latin_asking(text: str) -> set[str]:
    """The sentences of a Russian or English question that ask (without their final punctuation, as ``clauses``
    gives them)."""
    return {m.group(0).rstrip(".?!; ").strip() for m in LATIN_SENTENCE.finditer(text) if LATIN_ASKS.search(m.group(0).strip())}


def clauses(text: str) -> list[str]:
    """The clauses of a question: split at punctuation (and, in Chinese, at spaces and 另外/顺便 …)."""
    parts = CLAUSE.split(text) if CJK.search(text) else SENTENCE.split(text)
    return [c for c in parts if c.strip()]


# the asks of a question: its sentences (？。！；), and a second ask joined by 另外/还有/顺便/and also/и ещё …
ASKS = re.compile(
    r"\s*\n\s*(?:[（(]?[0-9一二三四五][)）.、．:：]\s*)?|^\s*[（(]?1[)）.、．:：]\s*|[。？?！!；;]+|[，,、\s]*(?:另外|顺便问下|顺便问一下|顺便|还有就是|还有|再问一下|再问下|并且|"
    r"\band also\b|(?<!that )(?<!which )(?<!who )\balso\b|\band\b(?= (?:what|where|which|how|do|does|is|are|can|who|when)\b)|"
    r"\bа также\b|\bи ещё\b|\bи еще\b|\bкроме того\b|"
    r"(?<![а-яё])и(?= (?:где|куда|какой|какая|какие|какую|как|сколько|что|можно|нужно|нужен|нужна|надо|когда|кто|во сколько|до скольки|есть ли)(?![а-яё])))[，,:：\s]*",
    re.IGNORECASE,
)


def asks(text: str) -> list[str]:
    """The separate asks of a question (each sentence, or a second ask joined by 另外/also/и ещё …):
    the unit inside which words combine (公章 + 彩色 is a printed seal only in one ask) and that is
    answered on its own when a question asks several things."""
    return [a for a, _ in marked_asks(text)]


def marked_asks(text: str) -> list[tuple[str, bool]]:
    """``asks`` with, for each, whether a connector (另外, 顺便问下, also …) introduced it: such a part is an
    ask even without a question word (…，顺便问下客服电话)."""
    out: list[tuple[str, bool]] = []
    pos, joined = 0, False
    for m in ASKS.finditer(text):
        part = text[pos : m.start()].strip()
        if part:
            out.append((part, joined))
        pos = m.end()
        # the separator holds a connector word (not only punctuation)
        joined = bool(m.group(0).strip(" \t\n，,、:：。？?！!；;"))
    part = text[pos:].strip()
    if part:
        out.append((part, joined))
    return out


# "要X吗": whether something is needed at all
# (a thing, not a verb: 要复印吗 / 要盖章吗 ask about the copy or the seal)
# (… 要带卡去不 / 法人的身份证复印件需要吗: the spoken yes-no 不, the thing named before 需要)
REQUIRED_ASK = re.compile(
    r"(?:^|[^不])(?:要|需要|得|必须)(?![复打盖签写填去办])[^，,。？?]{1,12}(?:吗|么|嘛|不|啊|呀)[？?]?$"
    r"|[^，,。？?不]{2,12}(?:是否|是不是)?(?:需要|要)(?:吗|么|嘛|不)[？?]?$"
)
# … in English or Russian (Do I need the director's ID? / Нужен ли паспорт директора?)
REQUIRED_ASK_LATIN = re.compile(
    r"\b(?:do|does) (?:i|we|you|one) (?:really )?(?:need|have to (?:bring|provide|submit|give))\b(?! to (?:do|update|change|go|come|apply))"
    r"|\bis (?:the|a|an|my|our) [\w' -]{1,40} (?:needed|required|necessary)\b"
    r"|(?:^|[.?!]\s*)(?:нужен|нужна|нужно|нужны|надо|обязательно)(?: ли)? (?:ли )?(?:брать|приносить|принести|взять|предоставлять|копи|паспорт|карт|лиценз|удостоверени)",
    re.IGNORECASE,
)
# an ask pointing back at the story (…说首次办卡免费，我们这边也是这样吗): the story's aspects are what it asks
POINTS_BACK = re.compile(r"这样吗|这样的吗|也是这样|也这样|一样吗|也一样|same here|the same for us|так же|тоже так")


# the holder acting personally, said in a sentence of their own (我想自己把操作员卡注销): I … myself … cancel
BY_MYSELF = re.compile(
    r"我[^，,。？?；;]{0,6}(?:自己|本人|亲自)[^，,。？?；;]{0,10}(?:注销|销)"
    # … or in a clause of its own, 我 told before (我是外籍员工，本人去办卡注销 / 现在自己要注销): not the legal rep's card
    r"|(?<!法人)(?<!代表人)(?<!老板)(?:本人|自己|亲自)(?:能不能|可不可以|能否|能|可以)?(?:去|来|要|想|得)?(?:办理?卡?)?"
    r"(?:注销|销卡|销掉|销)"
    # (… or a clause of its own opening with 本人/自己)
    r"|(?:^|[，,。？?！!；;\s])(?:本人|自己)[^，,。？?；;]{0,8}(?:注销|销)"
)
# a clause saying the business is to be done (卡丢了要补办, 公司改名了要变更): a request, answered like an ask
WANTS = re.compile(
    r"(?:要|想|得|需要|准备|打算)(?:去)?(?:补办|变更|注销|解锁|换卡|延期|新办|增办|补卡|销卡|销掉|办理|办)(?:一下|了|掉)?$"
)
# the asker says they are the card's holder (not only "my own", "personally": a director's own passport is no holder's)
HOLDER_SAYS = re.compile(
    r"我(?:就)?是(?:这张卡的|卡的)?持卡人|卡(?:是|挂)(?:在)?我(?:的)?名下|\bi(?: am|'m) (?:the |a )?(?:card ?)?holder\b"
    r"|\bthe card is in my name|(?<![а-яё])я (?:—\s*)?(?:держатель|владелец) карты|карта (?:оформлена )?на (?:меня|мое имя)",
    re.IGNORECASE,
)
# someone acting personally, no business named (个人办要盖公章吗, 个人办的话…): a holder's one business, their card's cancellation
# (自己去处理卡: the holder's own card dealt with; 自己办卡 is getting one)
PERSONAL_ACT = re.compile(r"(?<!法人)(?<!老板)(?:个人|以个人身份|我自己|自己)(?:去|来)?(?:办(?!卡)|处理)|个人名义|以个人身份")
# the ID the card was issued with, told apart from the one now (当时办卡用的是护照，现在有身份证了): the holder's same-ID rule
SAME_ID = re.compile(
    r"(?:当时|当初|以前|原来|之前|那会|那时)[^，,。？?；;]{0,8}(?:用|拿)的?(?:是)?[^，,。？?；;]{0,4}(?:护照|身份证|身分证|通行证|回乡证|台胞证|永居证|证件)"
    r"|(?:issued|made|applied|got it) with (?:my |a )?(?:passport|id)"
    r"|(?:got|get|made|issued|received|applied for)(?: the| my| a)? (?:operator )?(?:card|it) with (?:my |a |the )?(?:passport|id)|used (?:my |a |the )?(?:passport|id)\b.{0,30}\b(?:got|applied|issued|made)|(?:оформля\w*|получа\w*|оформили|получили|делали|сделали) (?:карту )?по (?:паспорту|загранпаспорту)"
)
# the card centre's own hotline named (not just "a phone"): answered as such even beside a city
HOTLINE_NAMED = re.compile(r"热线|客服|制卡中心|中心的?电话|hotline|card cent(?:re|er)|горяч|центр", re.IGNORECASE)
# a document lost (执照找不着了, 身份证丢了): not the card — and the businesses the words lost / expired tell
DOC_LOST = re.compile(
    r"(?:营业执照|执照|身份证|身分证|护照|公章|证件|通行证|居留证)(?:原件|正本|副本)?(?:也|都|早就|早|已经|又|给)?"
    r"(?:丢了|丢失|遗失|找不着|找不到|不见了|弄丢|丢|掉了|没了)"
    # … or a company or person that cannot be found (原来公司也找不到了, 老板联系不上): not the card either
    r"|(?:原来的?公司|原公司|原单位|以前的?公司|公司|单位|老板|法人|人)(?:也|都|早就|早|已经)?(?:找不到|找不着|联系不上|不见了)"
)
LOST, RENEW, EXPIRED = "reissue_lost", "renew_cert", "reissue_expired"
CANCEL_OPERATOR, CANCEL_LEGAL = "cancel_operator", "cancel_legal"
OPERATOR_CARD = re.compile(r"操作员卡|operator cards?|карт\w* оператор", re.IGNORECASE)
CARD_IF_ANY = "holder_card_if_any"  # the holder's card is brought only if there is one
# the asker speaks of themselves (我, I, my card, я — not "my colleague", not 我们)
SELF = re.compile(r"我(?!们)|\bI\b|(?i:\bmy (?:own )?(?:operator )?card\b|\bmyself\b|\bя\b|\bмою карту\b|\bсвою\b)")
# a third person (他, 小王, 员工, colleague, сотрудник): someone else's card, not the asker's own
OTHER_PERSON = re.compile(
    r"[他她]|小[\u4e00-\u9fff](?=[离走辞的那这卡])|老[王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗郑梁]|员工|同事|职员|经办人|操作员|报关员|会计|出纳"
    r"|(?i:\b(?:he|she|his|her|colleague|employee|staff|clerk)\b|\b(?:он|она|его|её|ее)\b|сотрудни|коллег|бухгалтер|декларант)"
)
OTHER_CARD = re.compile(r"卡|(?i:\bcard\b|карт)")
LONG_EXPIRED = re.compile(
    r"过期(?:了)?(?:大半年|半年|一年|两年|三年|好几年|好几个月|几个月|很久|好久|多年|一段时间|很长时间|大半年了)"
    r"|(?:早就|早已|早都|好久|很久|老早)(?:就)?过期|expired (?:a|one|two|three|several|many) (?:year|month)s?(?: ago)?|expired long ago"
    r"|ист[её]к\w* (?:год|полгода|месяц|несколько|давно)|давно ист[её]к"
    # (a long time told before it: 好几年没报关了 那张卡一直扔抽屉里 现在插上提示过期)
    r"|(?:好几年|这几年|几年|多年|好多年|好久|很久|老长时间|大半年)[^。？?！!]{0,30}(?:过期|超期)"
)
LEGAL_CARD = re.compile(r"法人卡|legal[- ]person card|legal card|карт\w* (?:юрлица|юридического лица)|фаожэнь", re.IGNORECASE)
# a new person joining the company, told in English or Russian (our new customs declarant, новый сотрудник): the
# company adds an operator card for them (Chinese tells it in words of the vocabulary: 新来的报关员, 新招的)
NEW_PERSON = re.compile(
    r"\bnew(?:ly hired| hired)? (?:[a-z-]+ ){0,2}(?:declarants?|clerks?|staff|employees?|colleagues?|accountants?|workers?|brokers?"
    r"|hires?|guys?|girls?|persons?|people|members?|operators?|assistants?|managers?)\b"
    r"|нов(?:ый|ого|ому|ая|ой|ую|ые|ых|ым|енький|енькая)\s+(?:\w+\s+){0,1}(?:сотрудни\w*|декларант\w*|бухгалтер\w*|оператор\w*"
    r"|работни\w*|брокер\w*|коллег\w*|менеджер\w*)",
    re.IGNORECASE,
)
NEW_OPERATOR = "new_operator"
# a company new to the card, told in English or Russian (a new trading company, our first e-port card, новая торговая фирма):
# its first card (Chinese tells it in words of the vocabulary: 新公司, 头一回办)
NEW_COMPANY = re.compile(
    r"\bnew(?:ly (?:registered|established|opened|founded|set up))? (?:[a-z-]+ ){0,2}(?:company|firm|enterprise)\b"
    r"(?! (?:name|address|director|boss|legal|owner))"
    r"|\b(?:our |the )?first (?:ever )?(?:[a-z-]+ ){0,2}card\b|\bnever had (?:an? |the )?(?:[a-z-]+ ){0,2}card\b"
    r"|нов(?:ая|ую|ой|ое|ый)\s+(?:\w+\s+){0,1}(?:фирм|компани|организаци|предприяти)\w*"
    r"|перв(?:ую|ая|ой|ый) (?:\w+ ){0,2}карт\w*",
    re.IGNORECASE,
)
NEW_ENTRY = "new_entry"
# two things changed at once, joined in one phrase (поменяли название и адрес, new director and new company name): each
# named thing's change — in Russian or English, where the verb is said once for both
CHANGED_THINGS = {
    "change_name": r"названи\w*|наименовани\w*|(?<!user )name",
    "change_address": r"адрес\w*|address",
    "change_legal_rep": r"директор\w*|гендиректор\w*|руководител\w*|начальник\w*|director|legal rep\w*|boss",
}
_THING = "|".join(f"(?P<{b}>{w})" for b, w in CHANGED_THINGS.items())
_JOINED = re.compile(
    rf"(?:{_THING})(?:\s+\w+){{0,2}}?\s*(?:,\s*|\s+)(?:и|and|а также|as well as|&|плюс|plus)\s+(?:\w+\s+){{0,3}}?(?:{_THING.replace('(?P<', '(?P<b_')})",
    re.IGNORECASE,
)
CHANGED = re.compile(
    r"chang|moved|new|renam|replac|поменя|смени|сменя|меня\w*|измени|изменя|нов(?:ое|ый|ая|ого|ую)|переех|переименова",
    re.IGNORECASE,
)
FILL_FORM, FORMS, ATTACHMENT = "forms_fill_how", "forms", "attachment"  # aspects (vocabulary); a synonym group
COLLECT, ORIGINAL, MATERIALS_ORIGINAL = "collect", "original_or_copy", "materials_original_or_copy"  # aspects (vocabulary)
# 销 on its own (要销自己的卡): cancelling, not selling (销售)
CANCEL_CHAR = re.compile(r"销(?![售量路])")
# the card no longer needed (карта больше не нужна): a cancellation — read here, not as words of the ranking, where
# больше (more) and нужна (needed) are words of other questions (how many operators at most, нужна помощь)
NO_LONGER_NEEDED = re.compile(
    r"больше не (?:нужн|понадоб)\w*|не нужн\w* больше|\bno longer (?:need|needed|required|use)\b|\bdon'?t need (?:it|the card|our card|this card) any ?more\b",
    re.IGNORECASE,
)
# a second situation told beside the first (…法人也换了, 一块改了, 同时…): where one is looked for
ALSO = re.compile(r"也|又|都|和|跟|同时|以及|一块|一起|一并|还有|另外|顺便")
# a way to do it proposed by the asker (是要先注销再新办吗): a guess at the business, the story's situation decides
PROPOSES_A_WAY = re.compile(r"先[^，,。？?；;]{1,8}再")
# a greeting or a bare wish to do something about the card (你好 想办卡, 在吗 办个业务, hello, I want a card, Здравствуйте,
# хочу оформить карту): made only of these words, it names no business — the flow's own question, never a guess
GREETING = re.compile(
    r"你好|您好|你们好|老师好|在吗|在么|在嘛|在不在|在不|有人吗|有人在吗|哈喽|请问|麻烦|打扰|了解|"
    r"\b(?:hello|hi|hey|good (?:morning|afternoon|day))\b|здравствуйте|добрый (?:день|вечер)|доброе утро|привет|подскажите",
    re.IGNORECASE,
)
WISH = re.compile(r"[办弄整搞卡]|业务|手续|申请|\b(?:card|apply|want|need)\b|оформ|карт|нужн|хочу|хотим", re.IGNORECASE)
BARE_WORDS = re.compile(
    r"你们好|你好|您好|老师好|老师|在不在|在吗|在么|在嘛|在不|有人在吗|有人吗|哈喽|嗨|请问一下|请问下|请问|麻烦问一下|麻烦问下|麻烦一下|麻烦|"
    r"打扰一下|打扰了|打扰|想了解一下|了解一下|了解下|了解|你们这边|你们这里|你们这|你们|这边|这里|能不能|可以|能|吗|"
    r"咨询一下|咨询下|咨询|问一下|问下|问问|问个事|问个问题|想问问|想问|有个事|有事|的问题|问题|疑问|情况|老板让我|领导让我|让我|我们公司|我们单位|我们|我|俺们|俺|公司|单位|咱们|咱|"
    r"想要|想|要|准备|打算|需要|来|去|办理|办|弄|整|搞|处理|申请|一下|一个|一张|个|张|下|电子口岸卡|电子口岸|口岸卡|卡片|卡|"
    r"的事情|的事儿|的事|的业务|业务|手续|事情|事|相关|有关|关于|那个|这个|啊|呀|吧|呢|哈|嗯|哦|了|的|问|"
    r"\b(?:hello|hi|hey|good|morning|afternoon|day|dear|sir|madam|please|i|we|our company|our|my|us|would like to|would like|"
    r"want to|want|need to|need|get|apply for|apply|make|do something with|do something|something|with|about|for|a|an|the|"
    r"e-port cards?|eport cards?|e-port|eport|cards?|question|help|business)\b|"
    r"подскажите|здравствуйте|добрый|день|вечер|доброе|утро|привет|хочу|хотим|хотели бы|нужно|нужна|нужен|надо|оформить|сделать|"
    r"получить|карту|карта|карты|карте|электронного порта|электронный порт|вопрос|по|у нас|мы|я|с|пожалуйста|"
    r"[\W_\d]",
    re.IGNORECASE,
)


# "what to hand in / bring / prepare?" in any words (要交哪些, 得准备些啥, 提供什么): the materials
# … in English or Russian (what should I bring, что привезти)
WHAT_TO_BRING_LATIN = re.compile(
    r"\bwhat (?:else )?(?:should|do|must|shall|to|will|would) (?:i |we |you )?(?:need to |have to )?"
    r"(?:bring|prepare|take|submit|provide|hand in)\b"
    r"|(?<![а-яё])что (?:ещё |еще )?(?:нужно |надо |мне |нам |необходимо )?(?:с собой )?"
    r"(?:принести|привезти|приносить|привозить|брать|взять|подготовить|готовить|предоставить|сдать)",
    re.IGNORECASE,
)
WHAT_TO_BRING = re.compile(r"(?:交|带|准备|提供|提交|递交|备)(?:些|上|好|点|一点|点儿)?(?:哪些|什么|啥|哪几样|哪几份|哪几个)")


@dataclass(frozen=True)
class Reading:
    """What a question was read as."""

    question: str
    businesses: tuple[str, ...] = ()
    aspects: tuple[str, ...] = ()
    holder: bool = False
    left: bool = False  # someone left the company (with ``holder``: the holder's own cancellation)
    cities: tuple[str, ...] = ()
    jiangsu: bool = False
    categories: tuple[str, ...] = ()  # a kind of business named without which one (注销, 补办)
    document: bool = False  # a document is named (营业执照, 身份证 …): it picks an aspect's answer
    asked: tuple[str, ...] = ()  # aspects each asked on their own (a clause of their own): never dropped as weak
    asks_business: bool = False  # one of several asks is whether the business named must be done
    story: tuple[str, ...] = ()  # businesses only told in the story while another is asked (never the answer)


@dataclass(frozen=True)
class Plan:
    """What answers a question. ``kind``: "answers" (``routes``, shown together), "topic" (the
    business's first screen, in ``routes``), "ask" (which business? for ``aspect``; ``routes``: the
    businesses named, when several were) or "none"."""

    kind: str
    routes: tuple[str, ...] = ()
    business: str | None = None  # the business the answers are about (a button to it)
    aspect: str | None = None  # the aspect an ask-back is pending for
    reading: Reading = field(default_factory=lambda: Reading(""))


class Reader:
    """Reads a user's question as parts (business, aspects, who acts, region) and plans the answer
    routes for it, with the matcher's ranking as the fallback and tie-breaker."""

    def __init__(self, kb: Knowledge, matcher: Matcher):
        self.kb = kb
        self.matcher = matcher
        groups: dict[str, list[str]] = {}
        seen: set[str] = set()

        def add(key: str, words) -> None:
            for w in words:
                k = w.strip().lower()
                if k and k not in seen:  # the first meaning wins: aspects, then businesses
                    seen.add(k)
                    groups.setdefault(key, []).append(w)

        for a in kb.aspects.values():
            add(f"a:{a.id}", a.words)
        # an aspect named like a synonym group (fee, hours, passport …) is also named by the group's words
        # (one list of words per concept, read alike by the ranking and the reader: 掏钱 is a fee for both)
        groups_by_id = {g.id: g.words for g in kb.synonyms}
        for a in kb.aspects.values():
            if a.id in groups_by_id:
                add(f"a:{a.id}", groups_by_id[a.id])
        for v in kb.vocabulary:
            target = Route.parse(v.target)
            kind, name = target.screen, target.arg
            if kind == "topic":
                add(f"b:{name}", v.terms)
            elif kind == "category":
                add(f"k:{name}", v.terms)
            elif kind == "city":
                add(f"c:{name}", v.terms)
            elif v.target == JIANGSU_TARGET:
                add("r:jiangsu", v.terms)
        for b in kb.businesses.values():
            add(f"b:{b.id}", [b.name])
        for group in kb.synonyms:  # who acts: the holder personally (having left the company)
            if group.id in (HOLDER_GROUP, LEAVE_GROUP):
                add(f"who:{group.id}", group.words)
        # a mistyped word is corrected only to the names of businesses, materials and places (营业执招 →
        # 营业执照), never to a short question word (办张操作员卡 is not 两张操作员卡)
        dictionary = [t for v in kb.vocabulary if v.target.startswith(("topic:", "city:")) for t in v.terms]
        dictionary += [b.name for b in kb.businesses.values()] + [m.name for m in kb.materials.values()]
        # … and to the documents an aspect names (身份证复印见 → 身份证复印件), three characters or more
        dictionary += [w for a in kb.aspects.values() if a.document for w in a.words if len(w) >= 3]
        # … and, by sound only (a two-character word is a homophone's target when it is a name), the documents'
        # and the seal's own two-character nouns (公张 → 公章, 执找 → 执照, 户照 → 护照)
        dictionary += [
            w
            for a in kb.aspects.values()
            if a.document or a.id in SOUND_NOUNS
            for w in a.words
            if len(w) == 2 and re.fullmatch(r"[\u4e00-\u9fff]+", w)
        ]
        self.analyzer = Analyzer(groups, dictionary, correct_to_synonyms=False)
        known = matcher.analyzer
        self.analyzer.learn_words(list(known.known_words) + [w for ws in groups.values() for w in ws])
        self.analyzer.known_bigrams = known.known_bigrams | self.analyzer.known_bigrams
        self.analyzer.words |= known.words
        self._concept = {char: cid for cid, char in self.analyzer.concept_char.items()}
        self._ranking_concept = {char: cid for cid, char in matcher.analyzer.concept_char.items()}  # … as the ranking reads
        # composite aspects, the most specific first
        self._composites = sorted((a for a in kb.aspects.values() if a.when), key=lambda a: -len(a.when))
        self._combines = {a.id: frozenset(a.when) for a in self._composites}  # what each composite is made of
        self._holder_businesses = [b.id for b in kb.businesses.values() if b.audience == "holder"]
        # the words of cancelling, also inside a longer word that says who acts (本人去注销)
        self._cancel_words = [t for v in kb.vocabulary if v.target == "category:cancel" for t in v.terms if CJK.search(t)]
        self._signatures = self._business_signatures()
        # each business's own words, the longest first (a second situation is read in what they leave)
        self._business_words = {
            key[2:]: sorted(words, key=len, reverse=True) for key, words in groups.items() if key.startswith("b:")
        }
        self._memo: dict[str, Plan] = {}
        self._reads: dict[str, Reading] = {}

    def _business_signatures(self) -> list[tuple[frozenset[str], str]]:
        """What a business is, as the concepts its own words combine (公司名称变了 → name + changed; 密码输错
        → password): a question telling the situation in other words (名字核准变更了, 口令忘了) combines the
        same concepts. From the vocabulary's words for each business, read by the matcher's synonym groups
        (any word of a group stands for it); a signature of one concept only when that concept is an event
        distinctive enough to weigh double (lost, locked, moved …); one naming two businesses names none."""
        analyzer = self.matcher.analyzer
        names = {char: cid for cid, char in analyzer.concept_char.items()}
        distinctive = {g.id for g in self.kb.synonyms if g.weight >= 2} - PLACES
        found: dict[frozenset[str], set[str]] = {}
        for v in self.kb.vocabulary:
            target = Route.parse(v.target)
            kind, business = target.screen, target.arg
            if kind != "topic":
                continue
            for term in v.terms:
                concepts = frozenset(names[t] for t in analyzer.terms(term, correct=False) if t in names)
                # (it says what happened: a distinctive event, or a change or an addition — 分公司 + 地址 is no move)
                if concepts & (distinctive | EVENTS) and (len(concepts) >= 2 or concepts <= distinctive):
                    found.setdefault(concepts, set()).add(business)
        return sorted(((sig, next(iter(b))) for sig, b in found.items() if len(b) == 1), key=lambda x: -len(x[0]))

    def _explains(self, aspect: str) -> bool:
        """Whether an aspect answers something of its own (not weak, not only "the documents do not say")."""
        a = self.kb.aspects[aspect]
        return (
            bool(a.routes)
            and not a.weak
            and not all(r.startswith("answer:") and self.kb.answers[Route.parse(r).arg].silent for r in a.routes)
        )

    def _concepts(self, text: str) -> set[str]:
        """The synonym groups (concepts) the words of the text name, as the ranking reads them."""
        names = self._ranking_concept
        return {names[t] for t in self.matcher.analyzer.terms(text) if t in names}

    def business_by_concepts(self, text: str) -> str | None:
        """The business whose signature the text's concepts (inside one ask) hold, the most specific first;
        None when none, or when two businesses fit equally."""
        for part in asks(text):
            found = self._signature_fit(part)
            if found == "":
                # (two fit alike — 有个操作员走了 他那张卡想销掉 要老板签字啥的不: a leaving operator or a leaving boss —
                # the clause that tells it alone)
                fits = {self._signature_fit(c) for c in clauses(part)} - {None, ""}
                found = next(iter(fits)) if len(fits) == 1 else None
            if found:
                return found
        return None

    def _both_fit(self, text: str) -> tuple[str, ...]:
        """Two or three businesses of one kind whose signatures the text holds alike, each by a concept of its own
        beside the event they share (公司名和地址都变了: name + changed, address + changed): all of them; else none."""
        analyzer = self.matcher.analyzer
        names = {char: cid for cid, char in analyzer.concept_char.items()}
        concepts = {names[t] for t in analyzer.terms(text) if t in names}
        fits = [(sig, b) for sig, b in self._signatures if sig <= concepts and len(sig) >= 2]
        if not fits:
            return ()
        best = [(sig, b) for sig, b in fits if len(sig) == len(fits[0][0])]
        named = list(dict.fromkeys(b for _, b in best))
        if not 2 <= len(named) <= MAX_ANSWERS or len({self.kb.businesses[b].category for b in named}) != 1:
            return ()
        shared = frozenset.intersection(*(sig for sig, _ in best))
        own = [sig - shared for sig, _ in best]
        if not shared or any(not o for o in own) or len(set().union(*own)) < sum(len(o) for o in own):
            return ()
        return tuple(named)

    def _signature_fit(self, text: str) -> str | None:
        """The business whose signature the text's concepts hold (the most specific); "" when two fit alike, None
        when none fits."""
        analyzer = self.matcher.analyzer
        names = self._ranking_concept
        concepts = {names[t] for t in analyzer.terms(text) if t in names}
        fits = [(sig, b) for sig, b in self._signatures if sig <= concepts]
        if not fits:
            return None
        best = {b for sig, b in fits if len(sig) == len(fits[0][0])}
        return best.pop() if len(best) == 1 else ""

    # -- reading -----------------------------------------------------------------------------
    def read(self, question: str) -> Reading:
        """The parts one clause of a question names: its businesses, aspects, categories, cities,
        who acts and region hints, from the vocabulary's words as the Analyzer reads them (each text read
        once per question: the clauses are read again by several steps of ``compute``)."""
        known = self._reads.get(question)
        if known is None:
            known = self._reads[question] = self._read(question)
        return known

    def _read(self, question: str) -> Reading:
        found: list[str] = []
        for term in self.analyzer.terms(question):
            cid = self._concept.get(term)
            if cid and cid not in found:
                found.append(cid)
        aspects = [c[2:] for c in found if c.startswith("a:")]
        if (
            "required" in self.kb.aspects
            and "required" not in aspects
            and (
                any(REQUIRED_ASK.search(c) for c in clauses(question.strip()))
                or (not CJK.search(question) and REQUIRED_ASK_LATIN.search(question))
            )
        ):
            aspects.append("required")
        if (
            "materials" in self.kb.aspects
            and "materials" not in aspects
            and (WHAT_TO_BRING.search(question) or WHAT_TO_BRING_LATIN.search(question))
        ):
            aspects.append("materials")
        if "same_id" in self.kb.aspects and "same_id" not in aspects and SAME_ID.search(question):
            aspects.append("same_id")
        document = any(self.kb.aspects[a].document for a in aspects)  # before composites take them in
        parts = [q for p in asks(question) for q in self._spaced_asks(p)]
        # words combine only inside one ask (复印件只能盖公章吗？外文材料要翻译吗: not a translation seal)
        own = [self._aspects_of(p) for p in parts] if len(parts) > 1 else [set(aspects)]
        together = self._carry_documents([set(t) for t in own]) if len(parts) > 1 else own
        # 公章 + 彩色 → a printed seal: inside each ask, the most specific first, each word used once per ask (外国人当法人
        # 拿护照行不？护照得翻译不: a foreign passport in the first ask, its translation in the second)
        made: list[tuple[int, str]] = []
        standalone: set[str] = set()
        for t, mine in zip(together, own):
            left = set(t) & set(aspects)
            fits = [c for c in self._composites if self._combines[c.id] <= left]
            if len(fits) > 1 and len(together) > 1:
                # (the most specific first; among equals, one of the ask's own words: 翻译件谁盖章 after a passport is
                # the translation's seal, not the passport's translation)
                fits.sort(key=lambda c: (-len(c.when), not all(x in mine for x in c.when)))
            for comp in fits:
                if all(x in left for x in comp.when):
                    left -= set(comp.when)
                    if comp.id not in (c for _, c in made):
                        # (where the ask's own words are: 哪里能买ukey，还有共享盾 — the 共享盾's ask is the second)
                        at = [aspects.index(x) for x in comp.when if x in mine] or [aspects.index(x) for x in comp.when]
                        made.append((min(at), comp.id))
            if left & CARRIED_THINGS:
                # a verb shared by two things (想多买一个USBKey 或者共享盾 去哪买): the other thing's own ask too
                done = {x for _, c in made for x in self.kb.aspects[c].when}
                for comp in self._composites:
                    thing = set(comp.when) & CARRIED_THINGS
                    rest = set(comp.when) - thing
                    if (
                        thing
                        and thing <= left
                        and rest
                        and rest <= done
                        and rest <= set(t)
                        and comp.id not in (c for _, c in made)
                    ):
                        left -= thing
                        made.append((min(aspects.index(x) for x in thing), comp.id))
            standalone |= left
        if made:
            used = {x for _, c in made for x in self.kb.aspects[c].when}
            kept = [x for x in aspects if x not in used or x in standalone]
            for at, cid in sorted(made, key=lambda m: m[0]):
                before = sum(1 for x in aspects[:at] if x in kept)
                kept.insert(min(before + sum(1 for a, _ in made if a < at), len(kept)), cid)
            aspects = kept
        if FILL_FORM in aspects and ATTACHMENT in self._concepts(question):
            # how to fill in 附件2 / attachment 1: the form is named — its own answer, not which business
            aspects = [FORMS if a == FILL_FORM else a for a in aspects]
        if COLLECT in aspects and MATERIALS_ORIGINAL in aspects:
            # what to bring when collecting the card, originals or copies: the pickup's own originals — not the
            # application's copies-and-form rule
            aspects = [ORIGINAL if a == MATERIALS_ORIGINAL else a for a in aspects]
        if (
            "materials" in aspects
            and "bring_id" in aspects
            and WHAT_TO_BRING.search(question)
            and not self._concepts(question) & PERSONS
        ):
            # 需要带哪些证件, nobody named: the list of what to bring (which business?), not one person's ID
            aspects = [a for a in aspects if a != "bring_id"]
        businesses = tuple(c[2:] for c in found if c.startswith("b:"))
        categories = tuple(c[2:] for c in found if c.startswith("k:"))
        if "cancel" not in categories and "cancel" in self.kb.categories and NO_LONGER_NEEDED.search(question):
            categories += ("cancel",)
        if LOST in businesses and "who:leave" in found and CANCEL_OPERATOR in self.kb.businesses and not SELF.search(question):
            # a card lost and its holder gone (同事卡丢了，人也离职了): not a reissue — the leaver's card is cancelled
            # (the company's cancellation; the holder's own when the asker is the holder: business_of)
            businesses = tuple(dict.fromkeys(CANCEL_OPERATOR if b == LOST else b for b in businesses))
        if (
            not businesses
            and "who:leave" in found
            and CANCEL_OPERATOR in self.kb.businesses
            and not SELF.search(question)
            and OTHER_PERSON.search(question)
            and OTHER_CARD.search(question)
            and not LEGAL_CARD.search(question)
        ):
            # someone else left and their card is asked about (他离职了卡怎么办, 小王走了 她那张卡咋弄): the company cancels
            # the operator card; the holder's own cancellation only when the asker speaks of their own card (我离职了)
            businesses = (CANCEL_OPERATOR,)
        lost_document = DOC_LOST.search(question)
        if lost_document and LOST in businesses:
            # a document lost (营业执照找不着了), not the card: the lost card's reissue only if the rest says so
            rest_found = {self._concept.get(t) for t in self.analyzer.terms(DOC_LOST.sub("，", question))}
            if f"b:{LOST}" not in rest_found:
                businesses = tuple(b for b in businesses if b != LOST)
        if RENEW in businesses and LONG_EXPIRED.search(question) and EXPIRED in self.kb.businesses:
            # expired long ago (证书过期大半年了): past a renewal, the expired card's reissue
            businesses = tuple(dict.fromkeys(EXPIRED if b == RENEW else b for b in businesses))
        if not businesses:
            # the situation told in other words (公司名称核准变更了): the concepts it combines, in the words no
            # aspect explains (身份证丢了 is not a lost card; 第一次入网…掏钱吗 is a first card and a fee; a silent
            # topic explains nothing: 换了个新的法人 tells a change, it does not ask old-or-new)
            rest = DOC_LOST.sub("，", question) if lost_document else question
            for a in aspects:
                if self._explains(a) or a in (HOW, PROCESS):  # (what to do names no situation: 不知道走哪个业务)
                    for w in self.kb.aspects[a].words:
                        rest = rest.replace(w, " ")
            by_concepts = self.business_by_concepts(rest)
            if by_concepts in self._holder_businesses and not SELF.search(question):
                by_concepts = None  # someone else left (经办人离职了): not the asker's own card
            if by_concepts and (not categories or self.kb.businesses[by_concepts].category in categories):
                businesses = (by_concepts,)
            elif not by_concepts and ALSO.search(question) and CJK.search(question):
                businesses = self._both_fit(rest)  # 公司名和地址都变了: two changes told with one verb
        elif len(businesses) == 1 and ALSO.search(question) and CJK.search(question):
            # a second situation told in other words beside the first (公司地址变了法人也换了, 法人换了 公司名也一块改了):
            # the concepts of what the first one's words leave
            rest = question
            for w in self._business_words.get(businesses[0], ()):
                rest = rest.replace(w, "，")
            second = self.business_by_concepts(DOC_LOST.sub("，", rest) if lost_document else rest)
            if (
                second
                and second not in businesses
                and second not in self._holder_businesses
                and self.kb.businesses[second].category == self.kb.businesses[businesses[0]].category
            ):
                businesses = (*businesses, second)
        if (
            CANCEL_LEGAL in self.kb.businesses
            and CANCEL_OPERATOR in self.kb.businesses
            and LEGAL_CARD.search(question)
            and OPERATOR_CARD.search(question)
            and CANCEL_CHAR.search(question)
            and not SELF.search(question)
        ):
            # both cards named to be cancelled (公司注销了，法人卡和操作员卡都要注销吗): both cancellations
            businesses = (CANCEL_LEGAL, CANCEL_OPERATOR)
        elif (
            not businesses and LEGAL_CARD.search(question) and CANCEL_CHAR.search(question) and CANCEL_LEGAL in self.kb.businesses
        ):
            # the legal-person card to be cancelled (那个法人卡还要去销吗), whatever else is told
            businesses = (CANCEL_LEGAL,)
        elif not businesses and EXPIRED in self.kb.businesses and LONG_EXPIRED.search(question):
            businesses = (EXPIRED,)  # expired long ago, told in other words (好几年没用了…提示过期)
        if not businesses and not categories and NEW_PERSON.search(question) and NEW_OPERATOR in self.kb.businesses:
            # a new colleague to get a card for (…for our new customs declarant; we already have cards): an added operator card
            businesses = (NEW_OPERATOR,)
        joined = _JOINED.search(question) if not CJK.search(question) else None
        sentence = next((m.group(0) for m in LATIN_SENTENCE.finditer(question) if joined and m.end() > joined.start()), "")
        if joined and CHANGED.search(sentence):
            # two things changed at once (поменяли название и адрес): each one's change
            both = [k.removeprefix("b_") for k, v in joined.groupdict().items() if v]
            both = [b for b in both if b in self.kb.businesses]
            if len(set(both)) == 2 and not set(both) <= set(businesses):
                # (a company that changes is no new company: "new company name" is a name changed)
                kept = [b for b in businesses if b not in both and b != NEW_ENTRY]
                businesses = tuple(dict.fromkeys((*kept, *both)))
        if not businesses and not categories and NEW_COMPANY.search(question) and NEW_ENTRY in self.kb.businesses:
            # a company new to the card (we are a new trading company … our first e-port card): its first card
            businesses = (NEW_ENTRY,)
        return Reading(
            question=question,
            businesses=businesses,
            aspects=tuple(aspects),
            holder="who:holder" in found or bool(BY_MYSELF.search(question) or SAME_ID.search(question)),
            left="who:leave" in found,
            cities=tuple(c[2:] for c in found if c.startswith("c:")),
            jiangsu="r:jiangsu" in found,
            categories=categories,
            document=document,
        )

    @staticmethod
    def _spaced_asks(text: str) -> list[str]:
        """An ask typed like a chat, split where a space ends a piece that asks on its own (外国人当法人拿护照行不 护照得
        翻译不: two asks); a piece that does not ask joins the next (复印件上那句话 能打印上去不: one)."""
        out: list[str] = []
        pending = ""
        for piece in CJK_SPACE.split(text):
            pending = f"{pending} {piece}".strip()
            if ASKING.search(piece):
                out.append(pending)
                pending = ""
        if pending:
            if out and not ASKING.search(pending):
                out[-1] = f"{out[-1]} {pending}"
            else:
                out.append(pending)
        return out or [text]

    def _carry_documents(self, together: list[set[str]]) -> list[set[str]]:
        """A document named in one ask is what the next asks are about when they name none (护照复印件要盖章吗？
        要手写什么: the passport copy's wording); other words still combine only inside their own ask."""
        carried: set[str] = set()
        things: set[str] = set()
        asked: set[str] = set()  # what was asked of the thing before (where to buy it)
        before: set[str] = set()  # every aspect the asks before named
        online = False
        for t in together:
            # (applying online asked, then where to go in: the site — можно подать онлайн? куда заходить)
            if online and GO_IN in t:
                t.add(ONLINE)
            online = online or ONLINE in t
            # (the thing bought, likewise: where can I buy a USB key and how much is it? — its price)
            named = {a for a in t if a in CARRIED_THINGS}
            if named and not t - CARRIED_THINGS and asked:
                t |= asked  # 共享盾在哪买？USBKey呢: the same ask of the other thing
            elif named:
                things, asked = named, t - CARRIED_THINGS
            elif things and t & {"fee"}:
                t |= things
            docs = {a for a in t if self.kb.aspects[a].document}
            papers = docs - PERSON_DOCS
            if papers:
                carried = docs
            else:
                # (a person named — 我是跑腿的能替他签不 — is who acts on the paper asked about before, not another paper)
                t |= carried
            if t and before and all(self._cue(a) for a in t):
                # an ask of cues only, about what an ask before named (…能邮寄取卡吗？收件地址不是注册地址行不行: the
                # mailing's recipient): the words before that make a composite with them
                comp = next((c for c in self._composites if set(c.when) & t and set(c.when) <= t | before), None)
                if comp:
                    t |= set(comp.when)
            before |= t
        return together

    def _cue(self, aspect: str) -> bool:
        """An aspect that answers nothing on its own (a cue for a composite: 收件地址, 别的地址)."""
        a = self.kb.aspects[aspect]
        return not (a.routes or a.per_business or a.for_business or a.document or a.needs_business)

    def _aspects_of(self, text: str) -> set[str]:
        """The aspects named in a piece of text (its words only, nothing combined)."""
        return {c[2:] for c in (self._concept.get(t) for t in self.analyzer.terms(text)) if c and c.startswith("a:")}

    # -- deciding ----------------------------------------------------------------------------
    def plan(self, question: str) -> Plan:
        """What answers the question (remembered, like the matcher's results)."""
        plan = self._memo.get(question)
        if plan is None:
            plan = self.compute(question, self.matcher.match)
            if len(self._memo) >= 4096:
                self._memo.clear()
            self._memo[question] = plan
        return plan

    def compute(self, question: str, match=None) -> Plan:
        """``plan`` without memory, here or in the matcher (what ``make bench`` times)."""
        match = match or self.matcher.compute
        question = spoken(question)  # (俺/咋/啥/中不中/整/弄 as written: the regular expressions below read it too)
        self._reads = {}  # (the texts read while answering this question only)
        # (each text's words looked up once while answering this question: its asks and clauses are read by several steps)
        with self.analyzer.remembering(), self.matcher.analyzer.remembering():
            result = match(question)
            whole = self._with_place(self._plan(self.by_clause(self.read(question)), result))
            return self._with_other_kind(self._with_pickup(self._each_ask(question, whole, match), result))

    def _with_other_kind(self, plan: Plan) -> Plan:
        """A business and, in a clause of its own, a kind of business without which one (我要补办操作员卡，以及解锁法人卡):
        the kind's screen beside the business (lost or expired? its businesses), not the business alone."""
        reading = plan.reading
        if (
            plan.kind not in ("answers", "topic")
            or not plan.business
            or not reading.categories
            or len(plan.routes) >= MAX_ANSWERS
        ):
            return plan
        kb = self.kb
        told = {kb.businesses[b].category for b in (*reading.businesses, *reading.story) if b in kb.businesses}
        kinds = [k for k in dict.fromkeys(reading.categories) if k not in told and k in kb.categories]
        if len(kinds) != 1 or kb.businesses[plan.business].audience == "holder":
            return plan
        own = [c for c in clauses(reading.question) if kinds[0] in self.read(c).categories]
        if not own or any(self.read(c).businesses for c in own):
            return plan  # (the kind named in the business's own clause: the business says it)
        routes = (*plan.routes, f"category:{kinds[0]}")
        return Plan("answers", routes, business=plan.business, aspect=plan.aspect, reading=reading)

    def _with_pickup(self, plan: Plan, result: MatchResult) -> Plan:
        """Applying online always comes with its other half: the card is still collected in person at the
        office chosen (网上能办吗 / can we do it online, no trip?): the online application's answer never goes
        alone — the pickup is added, in place of where to apply in person if that was given."""
        routes = list(plan.routes)
        if plan.kind == "none" and result.confident and result.best and result.best.route == ONLINE_APPLY:
            routes = [ONLINE_APPLY]  # (the ranking's answer to words of applying online alone)
        elif plan.kind != "answers":
            return plan
        if ONLINE_APPLY not in routes or ONLINE_PICKUP in routes or ONLINE_PICKUP[7:] not in self.kb.answers:
            return plan
        if ONSITE_WHERE in routes:
            routes[routes.index(ONSITE_WHERE)] = ONLINE_PICKUP  # (…then must we go somewhere? to collect the card)
        elif len(routes) < MAX_ANSWERS:
            routes.append(ONLINE_PICKUP)
        else:
            return plan
        return Plan("answers", tuple(routes), business=plan.business, aspect=plan.aspect, reading=plan.reading)

    def _each_ask(self, question: str, whole: Plan, match) -> Plan:
        """A question asking several things (…能盖财务章吗？另外海拉尔能办吗 / …, and also …): each ask read
        on its own too, and what an ask gets on its own is added when the whole did not answer it, so no
        ask is dropped. An ask that depends on the business is answered for the business the whole names."""
        # (in Chinese typed like a chat, a space between two clauses ends an ask too: …原件还是复印件 正本副本都行吗)
        split = [(q, joined and i == 0) for p, joined in marked_asks(question) for i, q in enumerate(CJK_SPACE.split(p))]
        parts = [p for p, joined in split if joined or ASKING.search(p) or WANTS.search(p) or not CJK.search(p)]
        if len(parts) < 2 or whole.kind not in ("answers", "topic", "none"):
            return whole
        reading = whole.reading if whole.reading.question else self.read(question)
        business = whole.business or self.business_of(reading)
        routes = list(whole.routes)
        centre = f"city:{self.kb.offices[self.kb.facts['hotline'].office].city}"  # the hotline's own city
        added = False
        for part in parts:
            read = self.by_clause(self.read(part))
            if reading.jiangsu and not read.jiangsu:
                read = replace(read, jiangsu=True)  # (a Jiangsu company's second ask is still from Jiangsu)
            if business in self._holder_businesses and not read.businesses and not read.categories and read.aspects:
                # an ask naming no business, in a holder's question, is about the holder's own card (个人注销要带什么？
                # 身份证复印件上写什么: the holder's own wording, not the company's)
                read = replace(read, businesses=(business,), holder=read.holder or reading.holder)
            own = self._with_place(self._plan(read, match(part)))
            if own.kind == "ask" and business:
                own = self.answer_aspect(own.aspect, business, part)
            elif own.kind == "ask" and len(set(read.categories)) == 1 and read.categories[0] in self.kb.categories:
                own = Plan("answers", (f"category:{read.categories[0]}",))  # 补卡需要什么？…: lost or expired? its kind
            if own.kind == "none" and (read.aspects or read.businesses or read.categories or read.cities or not business):
                # (an ask naming nothing of its own after a business told — 还能用吗 — is about that business: no guess)
                result = match(part)
                best = result.best.route if result.confident and result.best else ""
                if best.startswith(("answer:", "topic:", "city:", "online", "offices")) and not (
                    best.startswith("answer:") and self.kb.answers[Route.parse(best).arg].silent
                ):
                    own = Plan("answers", (best,))
            if (
                own.kind == "answers"
                and "offices" in own.routes
                and not read.cities
                and NEARBY.search(part)
                and any(a in ("centre", "centre_phone") for a in reading.aspects)
            ):
                # a bank near the card centre, asked after it (телефон центра? и есть банк рядом): the centre's city
                own = replace(own, routes=tuple(dict.fromkeys(centre if r == "offices" else r for r in own.routes)))
            if own.kind not in ("answers", "topic") or not own.routes:
                continue
            if any(r in routes for r in own.routes) or len(routes) >= MAX_ANSWERS:
                continue
            if own.routes[0] == f"topic:{business}" and any(self._about(r, business) for r in routes):
                continue  # the business named again in a later ask: its answer is already about it
            if (
                own.routes[0] == "answer:hotline"
                and not HOTLINE_NAMED.search(part)
                and any(r.startswith("city:") and r != centre for r in routes)
            ):
                # a phone asked beside a city (赤峰能买吗 电话多少 / 那边电话多少): read with the question's places, that
                # city's offices give their phones — unless the ask names the card centre's hotline itself (另外客服热线是多少)
                continue
            routes.append(own.routes[0])
            added = True
        if not added:
            return whole
        kind = "answers" if len(routes) > 1 or routes[0].startswith(("answer:", "city:")) else "topic"
        return Plan(kind, tuple(routes), business=business, aspect=whole.aspect, reading=reading)

    def by_clause(self, reading: Reading) -> Reading:
        """A question told as a story, then asked: an aspect named only in the story (卡放了好几年没用 — not a
        question about validity) is not asked when the story names the business; an aspect that is the only
        thing its own question asks (…online? Which site?) is kept (``asked``), so every ask is answered."""
        parts = clauses(reading.question)
        if len(parts) < 2 or not (reading.aspects or reading.businesses):
            return reading
        read = [(c, self.read(c)) for c in parts]
        latin = None if CJK.search(reading.question) else latin_asking(reading.question)
        asking = [r for c, r in read if (ASKING.search(c) if latin is None else c.strip() in latin or not latin)]
        if not asking:
            return reading
        kinds = {k for r in asking for k in r.categories}
        asked = {b for r in asking for b in r.businesses}
        if len(asking) < len(read) and reading.businesses:
            # a business told in the story, another one (or another kind) asked (卡丢了好久了，干脆注销掉行不行 /
            # …还能自己注销吗): the ask's, not the story's — also when the ranking weighs the story more
            told = tuple(b for b in reading.businesses if b not in asked)
            ruled_out = RENEW in asked and EXPIRED in told and LONG_EXPIRED.search(reading.question)
            if asked and told and (ruled_out or any(PROPOSES_A_WAY.search(c) for c, _ in read)):
                # (…过期好几个月了，还能延期吗: expired long ago, a renewal is past — the situation's business)
                keep = told  # (卡掰弯了，是要先注销再新办吗: the broken card's business, not the guess)
            elif asked:
                keep = tuple(b for b in reading.businesses if b in asked)
            elif kinds and all(self.kb.businesses[b].category not in kinds for b in reading.businesses):
                keep = ()
            else:
                keep = reading.businesses
            if keep != reading.businesses:
                told = tuple(b for b in reading.businesses if b not in keep)
                reading = replace(reading, businesses=keep, story=told)
            elif ruled_out:  # the business asked is set aside, also against the ranking
                reading = replace(reading, story=tuple(b for b in asked if b not in keep))
        if not reading.aspects:
            return reading
        in_questions = {a for r in asking for a in r.aspects}

        def named(a: str) -> bool:
            spec = self.kb.aspects[a]
            # (an aspect that is a business — 再多加一个操作员卡 — tells which business the ask is about)
            is_business = bool(spec.routes) and all(r.startswith("topic:") for r in spec.routes)
            return a in in_questions or spec.told or is_business or any(w in in_questions for w in spec.when)

        aspects = reading.aspects
        points_back = any(POINTS_BACK.search(c) for c, r in read if not r.aspects)
        if (reading.businesses or reading.categories) and len(asking) < len(read) and not points_back:
            aspects = tuple(a for a in aspects if named(a))
        # an aspect that is all one ask asks (several asks, or the one ask after a story: …可以在网上办吗)
        # (a place after a story keeps the story's business: _with_place adds the city)
        alone = tuple(
            r.aspects[0]
            for r in asking
            if len(r.aspects) == 1
            and r.aspects[0] in aspects
            and (len(asking) > 1 or (len(read) > len(asking) and r.aspects[0] not in PLACE_ASPECTS))
            # (a document named in an ask that names its business — 我能自己拿身份证去解锁吗 — is how the business is
            # done, asked about the business: its screen, not one rule of the document)
            and not (r.businesses and self.kb.aspects[r.aspects[0]].document and self.kb.aspects[r.aspects[0]].weak)
        )
        whether = len(asking) > 1 and any((r.businesses or r.categories) and ASKS_BUSINESS.search(c) for c, r in read)
        # (…他那张卡想销掉 要老板签字啥的不: the business wanted in a clause of its own, then asked about — its screen too)
        whether = whether or any(
            (r.businesses or r.categories) and not r.aspects and WANTS.search(c) and r not in asking for c, r in read
        )
        return replace(reading, aspects=aspects, asked=alone, asks_business=whether)

    def _with_place(self, plan: Plan) -> Plan:
        """A second ask about a place (…？另外海拉尔那边有地方办没) keeps its answer beside the others: a
        clause naming a city of its own, asking where or whether it can be done there."""
        reading = plan.reading
        if plan.kind not in ("answers", "topic") or not reading.cities or plan.routes == (MAIN,):
            return plan
        routes = list(plan.routes)
        city = f"city:{reading.cities[0]}"
        if (
            len(routes) < MAX_ANSWERS
            and any(a in PLACE_ASPECTS for a in reading.aspects)
            and not any(r == "offices" or r.startswith("city:") for r in routes)
        ):
            # where (in that city) asked beside something else (…where is the centre and what is its phone)
            return Plan("answers", (*routes, city), business=plan.business, aspect=plan.aspect, reading=reading)
        parts = clauses(reading.question)
        if len(parts) < 2:
            return plan
        for clause in parts:
            part = self.read(clause)
            if not part.cities or part.businesses or len(routes) >= MAX_ANSWERS:
                continue
            asks_place = "办" in clause or any(a in PLACE_ASPECTS for a in part.aspects)
            others = [a for a in part.aspects if a not in PLACE_ASPECTS]
            route = f"city:{part.cities[0]}"
            if asks_place and not others and route not in routes and route != reading.question:
                routes.append(route)
        if routes == list(plan.routes):
            return plan
        return Plan("answers", tuple(routes), business=plan.business, aspect=plan.aspect, reading=reading)

    @staticmethod
    def _places(reading: Reading) -> tuple[str, ...]:
        """Each city named (赤峰和通辽都有网点吗: both), at most MAX_ANSWERS."""
        return tuple(f"city:{c}" for c in dict.fromkeys(reading.cities))[:MAX_ANSWERS]

    def business_of(self, reading: Reading, ranked: str | None = None) -> str | None:
        """The one business the question is about. ``ranked``: the business the ranking is confident
        about, which weighs every word of the question (it wins over a single word). Who acts: a
        holder cancelling their own card is the holder's business, not the company's."""
        if (
            ranked
            and reading.categories
            and self.kb.businesses[ranked].category not in reading.categories
            and not (reading.holder and self.kb.businesses[ranked].audience == "holder")
        ):
            ranked = None  # the words name another kind of business (…卡找不着了，还能注销吗: a cancellation)
        if ranked in self._holder_businesses and not reading.holder and reading.businesses:
            ranked = None  # the holder's own business needs a sign that the holder acts (our employee left: the company's)
        names = [ranked] if ranked else list(dict.fromkeys(reading.businesses))
        if reading.holder and self._holder_businesses and not LEGAL_CARD.search(reading.question):
            # (a holder's own business is an operator card's: 法人卡 cancelled "personally" is still the company's)
            cancel = [b for b in names if self.kb.businesses[b].category in ("cancel", "holder")]
            cancelling = (
                "cancel" in reading.categories
                or any(w in reading.question for w in self._cancel_words)
                or bool(CANCEL_CHAR.search(reading.question))
            )
            # a holder cancelling: a lost card or a leaver told in the story is not the business (a holder
            # acting personally has one business, their own card's cancellation)
            if cancel or cancelling or (not names and (reading.left or PERSONAL_ACT.search(reading.question))):
                names = [self._holder_businesses[0]]
        return names[0] if len(names) == 1 else None

    def applies(self, route: str, business: str | None) -> bool:
        """Whether an answer may speak for the business named (a fact about some businesses only, such
        as the free first set of a new company, does not answer for another; a material the business
        does not list is not its answer)."""
        if not business:
            return True
        if route.startswith("material:"):
            return any(ref.material == Route.parse(route).arg for ref in self.kb.businesses[business].materials)
        if not route.startswith("answer:"):
            return True
        named = self.kb.answers[Route.parse(route).arg].businesses
        return not named or business in named

    def _about(self, route: str, business: str) -> bool:
        """Whether an answer speaks for the business (its own fact, or the aspect's answer fixed for it) — the
        hotline or a seal rule for every business does not say what the business needs."""
        if not route.startswith("answer:"):
            return False
        a = self.kb.answers[Route.parse(route).arg]
        return (
            business in a.businesses
            or a.see == f"topic:{business}"
            or any(self.fixed_route(x, business) == route for x in self.kb.aspects)
        )

    def _of_kind(self, route: str, categories: tuple[str, ...]) -> bool:
        """Whether an answer belongs to a kind of business named (补办都分什么情况: the reissue's scope, not the
        new business's, whatever words the ranking weighs)."""
        if not categories or not route.startswith("answer:"):
            return False
        a = self.kb.answers[Route.parse(route).arg]
        return a.see in {f"category:{c}" for c in categories} or any(
            b in self.kb.businesses and self.kb.businesses[b].category in categories for b in a.businesses
        )

    def _ends_own_card(self, reading: Reading) -> bool:
        """Whether the words say the holder's own business — the card's cancellation — and not only "my card": a
        cancellation, the holder leaving, or the holder acting personally or saying they are the holder."""
        q = reading.question
        return (
            reading.left
            or bool({"cancel", "holder"} & set(reading.categories))
            or any(w in q for w in self._cancel_words)
            or bool(CANCEL_CHAR.search(q) or PERSONAL_ACT.search(q) or BY_MYSELF.search(q) or HOLDER_SAYS.search(q))
            or bool(SAME_ID.search(q))
        )

    def _about_form(self, route: str) -> bool:
        """Whether an answer is about the application form itself (who signs it, handwriting it)."""
        return route.startswith("answer:") and self.kb.answers[Route.parse(route).arg].see == "material:application_form"

    def _jiangsu(self, route: str) -> bool:
        """Whether a route is a fact of the Jiangsu guide only."""
        return route.startswith("answer:") and self.kb.answers[Route.parse(route).arg].region == "jiangsu"

    def _silent(self, route: str) -> bool:
        """Whether a route is a "the documents do not say" fact."""
        return route.startswith("answer:") and self.kb.answers[Route.parse(route).arg].silent

    def _silent_aside(self, active: list[str], result: MatchResult) -> set[str]:
        """The silent topics (aspects answered only by "the documents do not say") that the question is not about:
        the ranking confidently names a documented fact and weighs each silent answer of the topic at under a fifth
        of it — the topic's word was only one the question shares with it (纸质材料, 准备材料)."""
        best = result.best if result.confident else None
        if (
            not best
            or best.score < CLEAR_RANKING
            or not best.route.startswith(("answer:", "material:"))
            or self._silent(best.route)
            or self._jiangsu(best.route)  # (the Jiangsu guide's own rule is never what sets Manzhouli's silence aside)
        ):
            return set()
        silent = [a for a in active if self.kb.aspects[a].routes and all(self._silent(r) for r in self.kb.aspects[a].routes)]
        if not silent:
            return set()
        weighed = self.matcher.route_scores(result.question)
        return {a for a in silent if max(weighed.get(r, 0.0) for r in self.kb.aspects[a].routes) * SILENT_ASIDE < best.score}

    def _holder_only(self, route: str) -> bool:
        """Whether an answer is about the holder's own business only (their annotation, form, same ID)."""
        if not route.startswith("answer:"):
            return False
        named = self.kb.answers[Route.parse(route).arg].businesses
        return bool(named) and set(named) <= set(self._holder_businesses)

    def fixed_route(self, aspect: str, business: str | None) -> str | None:
        """The aspect's own answer for the business, if the knowledge names one."""
        a = self.kb.aspects[aspect]
        if business and business in a.per_business:
            return a.per_business[business]
        if business and a.for_business:
            return a.for_business.replace("{business}", business)
        return None

    def _fixed_for_kind(self, aspect: str, reading: Reading, business: str | None) -> str | None:
        """No business, one kind named (公司要把卡都注销了 … 签不了字): the aspect's own answer when it is the same for
        each business of that kind."""
        kinds = set(reading.categories) or ({"cancel"} if CANCEL_CHAR.search(reading.question) else set())
        if business or len(kinds) != 1 or not self.kb.aspects[aspect].per_business or next(iter(kinds)) not in self.kb.categories:
            return None
        same = {self.fixed_route(aspect, b.id) for b in self.kb.topics_in(next(iter(kinds)))}
        return next(iter(same)) if len(same) == 1 and None not in same else None

    def answer_aspect(self, aspect: str, business: str | None, question: str = "") -> Plan:
        """One aspect for one business (the ask-back's answer): its own route, else its answers."""
        fixed = self.fixed_route(aspect, business)
        spec = self.kb.aspects[aspect]
        # (the wording for a company's business: on the licence copy and on the ID copies, both)
        routes = (fixed,) if fixed else tuple(r for r in spec.unsure or spec.routes[:1] if self.applies(r, business))
        if not routes:
            return Plan("none")
        return Plan("answers", routes, business=business, reading=Reading(question, (business,) if business else (), (aspect,)))

    def _whose(self, reading: Reading) -> str | None:
        """An aspect whose answer is the company's or the holder's own (盖哪个章, 写什么, 签名能打印吗, 身份证复印件上写哪
        句话), asked with nothing that tells whose: no business, kind, holder, person, company or company document
        named — the aspect to ask back "which business?" for; the answers for the company would be a guess."""
        if reading.businesses or reading.categories or reading.holder or reading.left or reading.story or reading.jiangsu:
            return None
        aspects = self.kb.aspects
        who = [a for a in reading.aspects if aspects[a].asks_who]
        # (one thing asked: the signature is part of the wording — 这个签字怎么签; a seal and a wording asked together are
        # the company's copies: какую печать ставить и что писать)
        asked = {"annotation" if a == "signer" else a for a in who}
        if len(asked) != 1 or any(a not in who and a not in WHO_OPEN for a in reading.aspects):
            return None
        if self._concepts(reading.question) & (PERSONS | {"company"}):
            return None  # (经办人身份证写什么, 我们公司盖什么章: the company's)
        if COPY_NAMED.search(reading.question) and not (who[0] == SEAL and SEAL_WHETHER.search(reading.question)):
            return None
        return who[0]

    def _bare(self, reading: Reading) -> bool:
        """A greeting or a bare wish about the card and nothing else (你好 想办卡, 在吗 办个业务, hello, I want a
        card): no business, kind, place, person or aspect but what to do — the words the ranking would weigh are
        only 办 and 卡, so its best route is a guess."""
        if (
            reading.businesses
            or reading.categories
            or reading.cities
            or reading.jiangsu
            or reading.holder
            or reading.left
            or reading.story
            or any(a not in (HOW, PROCESS, PHONE) for a in reading.aspects)
        ):
            return False
        q = reading.question
        if not (GREETING.search(q) or WISH.search(q)) or BARE_WORDS.sub("", q):
            return False
        told = re.sub(r"[\W_]+", "", GREETING.sub("", q))
        if len(told) < 2 or told.lower() == "card":
            return False  # (a greeting alone, or 卡 alone: the suggestions and the menu, as for any word)
        # (咨询 alone is the hotline; with a greeting or a wish it is the wish to talk about the card)
        return PHONE not in reading.aspects or bool(WISH.search(q.replace("咨询", "")) or GREETING.search(q))

    def _plan(self, reading: Reading, result: MatchResult) -> Plan:
        kb = self.kb
        if PROCESS in kb.aspects and self._bare(reading):
            return Plan("ask", aspect=PROCESS, reading=reading)  # 你好 想办卡: which business? — never a guess
        ranked = result.best.route if result.confident and result.best else ""
        ranked_topic = Route.parse(ranked).arg if ranked.startswith("topic:") else None
        if ranked_topic in reading.story:
            ranked_topic = None  # the story's business, weighed by the ranking: not what is asked
        if (
            ranked_topic
            and not reading.businesses
            and not reading.story
            and any(kb.aspects[a].needs_business for a in reading.aspects)
            and result.best.score < CLEAR_RANKING
            and not reading.holder
        ):
            ranked_topic = None  # (办卡要带什么: no business in the words, a weak ranking is a guess — ask which one)
        if (
            ranked_topic
            and not reading.businesses
            and not reading.story
            and NO_VISIT in reading.aspects
            and result.best.score < CLEAR_RANKING
        ):
            ranked_topic = None  # (…without come to office: how to do it without going there, not a guess at the business)
        if (
            ranked_topic in self._holder_businesses
            and reading.left
            and not reading.holder
            and not reading.businesses
            and not SELF.search(reading.question)
            and OTHER_PERSON.search(reading.question)
            and CANCEL_OPERATOR in kb.businesses
        ):
            ranked_topic = CANCEL_OPERATOR  # someone else left (小王离职了，他那张卡咋弄): the company cancels the operator card
        if ranked_topic in self._holder_businesses and not reading.holder and not reading.left and not reading.businesses:
            ranked_topic = None  # (要交几个人的身份证: the holder's own business needs a sign of the holder)
        if ranked_topic in self._holder_businesses and not reading.businesses and not self._ends_own_card(reading):
            ranked_topic = None  # (my card doesn't work: "my card" alone is no cancellation — the holder's one business)
        if ranked_topic == LOST and CANCEL_OPERATOR in reading.businesses and LOST not in reading.businesses:
            ranked_topic = None  # (a card lost and its holder gone: the reader's cancellation, whatever the words weigh)
        if ranked_topic == RENEW and EXPIRED in reading.businesses and LONG_EXPIRED.search(reading.question):
            ranked_topic = None  # expired long ago (a year ago, 过期大半年): past a renewal, whatever words weigh
        if ranked_topic in reading.businesses and len(set(reading.businesses)) > 1:
            ranked_topic = None  # two businesses named (改名了，也搬家了): not one of them
        business = self.business_of(reading, ranked_topic) or self._asked_business(reading)
        if not business:  # an aspect that is a business (再加两个操作员 → adding operator cards)
            named = {
                Route.parse(r).arg
                for a in reading.aspects
                for r in kb.aspects[a].routes[:1]
                if r.startswith("topic:") and len(kb.aspects[a].routes) == 1
            }
            business = next(iter(named)) if len(named) == 1 else None
        whose = None if business else self._whose(reading)
        if whose:
            return Plan("ask", aspect=whose, reading=reading)  # 盖哪个章: the company's seal, or none for a holder?
        several = self._several_businesses(reading, business)
        if several:
            return several
        if SCOPE in reading.aspects and not business and not reading.categories:
            return Plan("topic", (MAIN,), reading=reading)  # which kinds of business there are: the main menu lists them
        aspects = [
            a for a in reading.aspects if kb.aspects[a].routes or kb.aspects[a].needs_business or self.fixed_route(a, business)
        ]
        active = [
            a
            for a in aspects
            if not kb.aspects[a].weak
            or self.fixed_route(a, business)
            or (a in reading.asked and kb.aspects[a].routes and not kb.aspects[a].needs_business)
        ]
        if any(not kb.aspects[a].document for a in active):
            # a document named with a question about it (经办人签什么) steers that question's answer;
            # it needs no answer of its own
            # (unless it is all its own question asks: …网址是啥？经办人能不能直接填法人)
            active = [
                a
                for a in active
                if not kb.aspects[a].document or self.fixed_route(a, business) or (a in reading.asked and kb.aspects[a].routes)
            ]
        if (
            OUTSIDE in active or OUTSIDE_TOLD in active
        ):  # a topic outside both documents (customs registration, drivers): the words
            # shared with documented facts (注册, 操作员卡) do not make one of those facts its answer
            return Plan("answers", tuple(kb.aspects[OUTSIDE].routes[:1]), business=business, reading=reading)
        aside = self._silent_aside(active, result)
        if aside:
            # a "the documents do not say" topic read from words it shares with what the question asks (去办业务要把卡
            # 本身也带上吗？还是光带纸质材料就行: 纸 is no question about paper size): the silent answer only for a question
            # about its own topic — not when the ranking, which weighs every word, clearly names a documented fact
            active = [a for a in active if a not in aside]
            aspects = [a for a in aspects if a not in aside]
        weak = [a for a in aspects if a not in active]
        if reading.cities and not business and active and all(a in PLACE_ASPECTS for a in active):
            return Plan("answers", self._places(reading), reading=reading)  # where, in that city
        if business and active == [ONLINE] and ASKING.search(reading.question) and kb.aspects[ONLINE].routes:
            # (…the card is locked. Can we unlock it online? — online the one thing the ask after the story asks)
            online = kb.aspects[ONLINE].routes[0]
            return Plan("answers", (f"topic:{business}", online), business=business, reading=reading)
        if not active:
            if business and ONLINE in weak and ASKING.search(reading.question) and kb.aspects[ONLINE].routes:
                # 解锁可以网上办吗: that business, and how applying online goes (the document's 方式二)
                online = kb.aspects[ONLINE].routes[0]
                return Plan("answers", (f"topic:{business}", online), business=business, reading=reading)
            if business:
                return self._business_alone(reading, business, result)
            if reading.story and len(set(reading.categories)) == 1 and not weak:
                # the story's business set aside for the kind asked (…干脆注销掉行不行): that kind's businesses
                kind = reading.categories[0]
                if LOST in reading.story and kind == "cancel":
                    # a card lost, asking whether it can still be cancelled: whose card? (the holder's own, or the
                    # company's cancellation) — the holder's brings the card only if any
                    if reading.left and SELF.search(reading.question) and CARD_IF_ANY in kb.answers:
                        holder = self._holder_businesses[0]
                        return Plan("answers", (f"answer:{CARD_IF_ANY}", f"topic:{holder}"), business=holder, reading=reading)
                    if not ({"company"} & self._concepts(reading.question) or "我们" in reading.question):
                        # (nobody named: the company's cancellations or the holder's own — asked back)
                        choices = [f"topic:{b.id}" for b in kb.topics_in(kind)] + [f"topic:{b}" for b in self._holder_businesses]
                        return Plan("ask", routes=tuple(dict.fromkeys(choices)), aspect=PROCESS, reading=reading)
                return Plan("topic", (f"category:{kind}",), reading=reading)
            if (
                not weak
                and not reading.cities
                and len(set(reading.categories)) == 1
                and NO_LONGER_NEEDED.search(reading.question)
            ):
                # the card no longer needed, nothing else told (карта больше не нужна): the cancellations
                return Plan("topic", (f"category:{reading.categories[0]}",), reading=reading)
            if reading.cities and not weak and not reading.categories:  # a place named alone (国贸支行能办卡不)
                return Plan("answers", self._places(reading), reading=reading)
            if weak and reading.cities and all(not kb.aspects[a].needs_business for a in weak):
                return Plan("answers", self._places(reading), reading=reading)
            place_routes = {r for a in weak for r in kb.aspects[a].routes}
            ranked_place = bool(result.best) and (result.best.route in place_routes or result.best.route.startswith("city:"))
            if (
                weak
                and set(weak) <= set(PLACE_ASPECTS)
                and not reading.categories
                and "offices" in place_routes
                and not (result.confident and ranked_place)
            ):
                # where (the card centre, a bank), no city and nothing else: every office with its address and phones
                # (what is the address of the card center — not the hotline the ranking weighs the words "card center" for)
                return Plan("answers", ("offices",), reading=reading)
            scope = self._category_scope(reading)
            if scope:
                return scope
            if (
                set(reading.aspects) == {HOW}
                and not weak
                # (nothing else told: a situation the reader cannot read — 公司换了个牌子，口岸那边咋整 — is not asked back
                # but left to the suggestions and the staff's list of missed questions; 签证怎么办理 is not ours)
                and not self._concepts(reading.question) - BARE_CONCEPTS
                and not reading.categories
                and not reading.story
                and PROCESS in kb.aspects
                and not (result.confident and result.best and result.best.score >= CLEAR_RANKING)
            ):
                # what to do (咋办啊，挺急的 / 这个卡咋办), nothing else told: which business? — never suggestions or a guess
                return Plan("ask", aspect=PROCESS, reading=reading)
            pending = [a for a in weak if kb.aspects[a].needs_business]
            if pending and len(weak) == 1 and reading.categories:
                # a kind of business named (变更业务): the answer when it is the same for each of its businesses
                same = {self.fixed_route(pending[0], b.id) for c in reading.categories for b in kb.topics_in(c)}
                if len(same) == 1 and None not in same and not next(iter(same)).startswith("topic:"):
                    return Plan("answers", tuple(same), reading=reading)
            if pending and all(
                a in pending
                or kb.aspects[a].document
                # (an office named as where to bring things, not asked for: what should we bring to the office?)
                or (a in PLACE_ASPECTS and not reading.cities and not PLACE_ASKED.search(reading.question))
                for a in weak
            ):
                # which business? (among those named, when several were); a document named beside the ask
                # (需要带哪些证件) does not make it less dependent on the business; asked for the most specific
                # of the aspects pending (几个人的身份证 before 准备)
                aspect = next((a for a in pending if kb.aspects[a].per_business), pending[0])
                return Plan(
                    "ask", routes=tuple(f"topic:{b}" for b in dict.fromkeys(reading.businesses)), aspect=aspect, reading=reading
                )
            best = result.best.route if result.confident and result.best else ""
            if (
                best.startswith("topic:")
                and Route.parse(best).arg in self._holder_businesses
                and not self._ends_own_card(reading)
            ):
                best = ""  # ("in person" is no holder's cancellation: the ranking's guess is not followed)
            if best.startswith("topic:") and NO_VISIT in reading.aspects and result.best.score < CLEAR_RANKING:
                best = ""  # (…without come to office: doing it without going there, not a guess at the business)
            if best and not (best.startswith("answer:") and kb.answers[Route.parse(best).arg].silent):
                # only general words (网上办理, where, phone): the ranking, which weighs every word, answers
                return Plan("none", reading=reading)
            active = [a for a in weak if not kb.aspects[a].needs_business]
            if not active:
                return Plan("none", reading=reading)
        routes = self._cover(reading, active, business)
        if not routes:
            return Plan("none", reading=reading)
        topic = f"topic:{business}"
        if reading.asks_business and business and topic not in routes and len(routes) < MAX_ANSWERS:
            routes = [topic, *routes]  # …要办变更吗？他护照要翻译不: whether to do the business, then the other ask
        elif business and routes and all(r == "offices" or r.startswith("city:") for r in routes) and len(routes) < MAX_ANSWERS:
            routes = [topic, *routes]  # 卡锁了，通辽能办吗，那边电话多少: the business told, and where (and whom to call) there
        return Plan("answers", tuple(routes), business=business, reading=reading)

    def _category_scope(self, reading: Reading) -> Plan | None:
        """A kind of business named with what to do, no business (不做外贸了，卡都不想要了，去办啥 → 注销): what
        that kind covers, its businesses named (the scope aspect's answer that belongs to the category).
        """
        kinds = set(reading.categories)
        if len(kinds) != 1 or HOW not in reading.aspects or SCOPE not in self.kb.aspects:
            return None
        see = f"category:{next(iter(kinds))}"
        routes = [
            r for r in self.kb.aspects[SCOPE].routes if r.startswith("answer:") and self.kb.answers[Route.parse(r).arg].see == see
        ]
        return Plan("answers", tuple(routes[:1]), reading=reading) if routes else None

    def _asked_business(self, reading: Reading) -> str | None:
        """Several businesses named, one of them in the question itself and the others in the story told
        before it (卡早就丢了找不到，个人注销还得交卡吗): the one asked about."""
        if len(set(reading.businesses)) < 2:
            return None
        asked = [self.read(c) for c in clauses(reading.question) if ASKING.search(c)]
        named = {b for r in asked for b in r.businesses}
        if len(named) == 1 and not any(r.categories for r in asked):
            return self.business_of(replace(reading, businesses=tuple(named)))
        return None

    def _several_businesses(self, reading: Reading, business: str | None) -> Plan | None:
        """Two or three businesses named (证书快到期了，卡也裂了; 老板换了，也搬了家 …) and nothing asked but what
        to do or bring: each business's first screen, in one message (each says its materials), not one of them
        nor a choice between them — the situation needs both."""
        named = list(dict.fromkeys(reading.businesses))
        if business or len(named) < 2:
            return None
        if any(
            self.kb.aspects[a].routes and not (self.kb.aspects[a].weak or self.kb.aspects[a].needs_business)
            for a in reading.aspects
        ):
            return None
        for a in reading.aspects:
            if self.kb.aspects[a].needs_business:
                # an aspect answered alike for each business named (换卡、延期，旧卡要带吗: the card medium rule for both)
                same = {self.fixed_route(a, b) for b in named}
                if len(same) == 1 and None not in same and not next(iter(same)).startswith("topic:"):
                    return Plan("answers", tuple(same), reading=reading)
        routes = [f"topic:{b}" for b in named[:MAX_ANSWERS]]
        # an ask of its own beside them that no business answers (…，要办什么，客服电话多少): its answer too
        for a in reading.asked:
            spec = self.kb.aspects[a]
            if spec.routes and not spec.needs_business and not spec.for_business and len(routes) < MAX_ANSWERS:
                routes += [r for r in self._cover(reading, [a], None)[:1] if r not in routes]
        return Plan("answers", tuple(routes), reading=reading)

    def _card_lost(self, reading: Reading) -> bool:
        """Whether the question tells that the card is lost (the lost card's reissue named, or the words of loss)."""
        return (
            LOST in reading.story
            or LOST in reading.businesses
            or "lost" in self._concepts(DOC_LOST.sub("，", reading.question))  # (a lost licence or company is not the card)
        )

    def _business_alone(self, reading: Reading, business: str, result: MatchResult) -> Plan:
        """A business named with nothing more specific: its first screen, or the one fact of that business
        the ranking is confident about (持卡人能不能自己注销 → that a holder can)."""
        best = result.best
        if business in self._holder_businesses and self._card_lost(reading) and CARD_IF_ANY in self.kb.answers:
            # a holder whose card is lost asking to cancel: the card is brought only if there is one, then the business
            return Plan("answers", (f"answer:{CARD_IF_ANY}", f"topic:{business}"), business=business, reading=reading)
        # (a situation told beside it — 原公司不管了，卡也找不到了，我自己能注销吗 — weighs words of the story:
        # the business's first screen, which says what the situation needs)
        # (asked where: the first screen, which says where that business is done — 个人注销操作员卡去哪办理)
        # (the card no longer needed tells the situation, a cancellation: нужна is no word of an answer's question then)
        where = any(a in PLACE_ASPECTS for a in reading.aspects)
        if (
            result.confident
            and best
            and best.route.startswith("answer:")
            and not reading.story
            and not where
            and not NO_LONGER_NEEDED.search(reading.question)
        ):
            a = self.kb.answers[Route.parse(best.route).arg]
            if not a.silent and (a.businesses == [business] or a.see == f"topic:{business}"):
                return Plan("answers", (best.route,), business=business, reading=reading)
        return Plan("topic", (f"topic:{business}",), business=business, reading=reading)

    def _cover(self, reading: Reading, aspects: list[str], business: str | None) -> list[str]:
        """Answers that together cover the aspects: greedily the route serving most of the aspects not
        yet covered, the ranking's best among equals; an aspect whose answers are all to be shown
        (``show_all``) brings each of them."""
        kb = self.kb
        candidates: dict[str, list[str]] = {}
        here: dict[str, str] = {}  # a place aspect → the city named in its own clause
        if reading.cities and any(a in PLACE_ASPECTS for a in aspects):
            for clause in clauses(reading.question):
                part = self.read(clause)
                for a in part.aspects:
                    if a in PLACE_ASPECTS and part.cities:
                        here.setdefault(a, part.cities[0])
        near_centre = bool(NEARBY.search(reading.question)) and any(a in ("centre", "centre_phone") for a in reading.aspects)
        for a in aspects:
            fixed = self.fixed_route(a, business) or self._fixed_for_kind(a, reading, business)
            routes = [fixed] if fixed else [r for r in kb.aspects[a].routes if self.applies(r, business)]
            if not reading.holder and not business:
                # a holder's own answer (their wording, their form) needs a sign of a holder acting personally
                routes = [r for r in routes if not self._holder_only(r)] or routes
            elif reading.holder and not business and not fixed and HOLDER_SAYS.search(reading.question):
                # a holder speaking of themselves, no business named (我是持卡人，翻译件盖公司章可以吗): the holder's own
                # rule is a candidate too, where the aspect has one (the ranking weighs the holder's words for it)
                own = [kb.aspects[a].per_business.get(b) for b in self._holder_businesses]
                routes += [r for r in own if r and r not in routes]
            # no answer of the aspect is about this business: the business's own screen says what it needs
            candidates[a] = routes or ([f"topic:{business}"] if business else [])
            if a in PLACE_ASPECTS and a in here:  # where, in a city named in the same ask (通辽那边在哪办)
                candidates[a] = [f"city:{here[a]}"]
            elif a in ("where", "bank") and not reading.cities and near_centre:
                # a bank near the card centre asked after it (телефон центра? и есть банк рядом): the centre's city
                candidates[a] = [f"city:{self.kb.offices[self.kb.facts['hotline'].office].city}"]
            if (
                a == PHONE and reading.cities
            ):  # a phone asked with a city named (解锁要带啥 通辽那家电话多少): its offices' phones
                candidates[a] = [f"city:{reading.cities[0]}"]
        if reading.document and not any(kb.aspects[a].document and FORMS in (a, *kb.aspects[a].when) for a in reading.aspects):
            # a paper named that is not the form (кто подписывает копию лицензии): the form's own answers are not its
            for a in aspects:
                kept = [r for r in candidates[a] if not self._about_form(r)]
                candidates[a] = kept or candidates[a]
        aspects = [a for a in aspects if candidates[a]]
        scores = self.matcher.route_scores(reading.question)
        chosen: list[str] = []
        named = reading.document
        for a in aspects:
            spec = kb.aspects[a]
            if self.fixed_route(a, business):
                continue
            if spec.show_all:
                chosen += [r for r in candidates[a] if r not in chosen]
            elif (
                spec.unsure
                and not named
                and not any(  # 签注写什么, on which copy? each wording
                    set(candidates[o]) & set(spec.routes) for o in aspects if o != a
                )
                and not (a == ORIGINAL and COLLECT in aspects)  # (collecting the card: the pickup's own originals)
            ):
                chosen += [r for r in spec.unsure if r not in chosen]
        uncovered = [a for a in aspects if not any(r in candidates[a] for r in chosen)]
        while uncovered and len(chosen) < MAX_ANSWERS:
            pool = list(dict.fromkeys(r for a in uncovered for r in candidates[a]))

            def key(r: str, open_: list[str] = uncovered) -> tuple[int, bool, bool, bool, float, int]:
                covers = sum(r in candidates[a] for a in open_)
                first = -min(candidates[a].index(r) for a in open_ if r in candidates[a])
                # a question from Jiangsu (江苏, 南京 …): the Jiangsu guide's answer on the point first; from anywhere
                # else, what the Manzhouli document says before the Jiangsu guide's (批下来了去哪领: the pickup at
                # the office chosen, not the Jiangsu status's remark)
                # (the Manzhouli answer the aspect lists before it: a Jiangsu-only fact never goes before it)
                local = self._jiangsu(r) if reading.jiangsu else True
                if not reading.jiangsu and self._jiangsu(r):
                    local = not any(
                        x.startswith("answer:") and not self._jiangsu(x) and not self._silent(x)
                        for a in open_
                        if r in candidates[a] and not kb.aspects[a].weak  # (a weak aspect's answers: the ranking decides)
                        for x in candidates[a][: candidates[a].index(r)]
                    )
                return covers, local, self._of_kind(r, reading.categories), scores.get(r, 0.0), first

            pool.sort(key=key, reverse=True)
            best = pool[0]
            chosen.append(best)
            uncovered = [a for a in uncovered if best not in candidates[a]]
        # in the order the question asks (USBKey和共享盾: the USBKey first)
        order = {
            r: min((i for i, a in enumerate(aspects) if r in candidates[a] or r in kb.aspects[a].unsure), default=99)
            for r in chosen
        }
        return sorted(chosen, key=lambda r: order[r])[:MAX_ANSWERS]
