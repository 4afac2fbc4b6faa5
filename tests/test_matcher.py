"""The free-text matcher on realistic questions written from the seed documents."""

from __future__ import annotations

import pytest

QUESTIONS = [
    # businesses
    ("卡丢了怎么办", "topic:reissue_lost"),
    ("我们公司的电子口岸卡遗失了，需要补办", "topic:reissue_lost"),
    ("操作员卡找不到了", "topic:reissue_lost"),
    ("卡过期了还能用吗", "topic:reissue_expired"),
    ("超期补办要带什么", "topic:reissue_expired"),
    ("公司第一次办理电子口岸卡需要什么材料", "topic:new_entry"),
    ("新成立的公司怎么申请法人卡", "topic:new_entry"),
    ("想再增加一个操作员", "topic:new_operator"),
    ("新增操作员卡怎么办理", "topic:new_operator"),
    ("公司改名了，卡要变更吗", "topic:change_name"),
    ("单位名称变更需要哪些材料", "topic:change_name"),
    ("法人换了怎么办", "topic:change_legal_rep"),
    ("变更法定代表人要带什么", "topic:change_legal_rep"),
    ("公司搬家了地址变更", "topic:change_address"),
    ("变更主要经营场所", "topic:change_address"),
    ("证书快到期了怎么延期", "topic:renew_cert"),
    ("证书续期", "topic:renew_cert"),
    ("密码输错卡被锁了", "topic:unlock"),
    ("卡锁住了怎么解锁", "topic:unlock"),
    ("卡坏了读不出来", "topic:replace_card"),
    ("换卡需要什么", "topic:replace_card"),
    ("公司注销了法人卡怎么处理", "topic:cancel_legal"),
    ("注销法人卡证书", "topic:cancel_legal"),
    ("员工离职了注销他的操作员卡", "topic:cancel_operator"),
    ("我离职了想注销自己的操作员卡", "topic:holder_cancel"),
    ("个人信息处理业务申请表在哪", "material:holder_form"),
    # materials, annotations, rules
    ("营业执照复印件上写什么", "answer:org_annotation"),
    ("营业执照要盖什么章", "answer:seal_official_only"),
    ("没有身份证怎么办", "answer:id_alternatives"),
    ("外国人没有身份证可以用护照吗", "answer:id_alternatives"),
    ("俄罗斯员工的护照要翻译吗", "answer:foreign_translation"),
    ("经办人需要带什么", "material:agent_id"),
    ("申请表可以打印吗还是手写", "answer:form_handwritten"),
    ("USBKey在哪里买", "answer:buy_usbkey"),
    ("共享盾去哪买", "answer:buy_shared_dun"),
    ("上传文件最大多少", "answer:upload_files"),
    ("申请单被退单了怎么办", "answer:refund_deadline"),
    ("申请单状态已处理是什么意思", "answer:statuses"),
    ("办卡要钱吗", "answer:silent_fees"),
    ("一次最多能加几个操作员", "answer:max_operators"),
    ("可以网上办理吗", "online"),
    ("能不能线上提交", "answer:online_apply"),
    ("中国电子口岸网站是什么", "answer:system_url"),
    ("客服电话多少", "answer:hotline"),
    # places
    ("通辽在哪里办", "city:通辽"),
    ("海拉尔有办卡的地方吗", "city:呼伦贝尔"),
    ("赤峰建行地址", "city:赤峰"),
    ("乌兰浩特能办吗", "city:乌兰浩特"),
    ("兴安盟哪里可以办", "city:乌兰浩特"),
    ("满洲里制卡中心在哪", "city:满洲里"),
    ("国贸支行电话", "city:满洲里"),
    ("去哪里办理", "offices"),
    # English
    ("I lost my card", "topic:reissue_lost"),
    ("how to unlock a locked card", "topic:unlock"),
    ("where is the office in Tongliao", "city:通辽"),
]


@pytest.mark.parametrize("question,route", QUESTIONS)
def test_question_finds_its_answer(engine, question, route):
    result = engine.matcher.match(question)
    assert result.best is not None, question
    assert result.best.route == route, (question, result.matches[:3])
    assert result.confident, (question, result.matches[:3])


def test_there_are_at_least_forty_questions():
    assert len(QUESTIONS) >= 40


@pytest.mark.parametrize("question", ["补办", "变更", "注销", "维护"])
def test_ambiguous_questions_get_suggestions_not_a_guess(engine, ctx, question):
    screen = engine.ask(ctx, question)
    assert screen.route == "suggest"
    suggestions = [b for b in screen.all_buttons() if b.label not in ("📍 办理地点", "🏠 主菜单")]
    assert 1 <= len(suggestions) <= 3


@pytest.mark.parametrize("question", ["", "   ", "卡", "asdfgh", "今天天气怎么样", "🙂🙂🙂", "<script>alert(1)</script>"])
def test_nonsense_gets_no_guess(engine, question):
    assert not engine.matcher.match(question).confident


def test_english_words_match_whole_words_only(engine):
    assert engine.matcher.match("almost there").best is None


def test_huge_input_is_cut_not_rejected(engine):
    result = engine.matcher.match("卡丢了怎么办" + "啊" * 100_000)
    assert result.best.route == "topic:reissue_lost"


def test_a_repeated_question_gets_the_same_answer_from_memory(kb):
    from dialogs.matcher import Matcher

    m = Matcher(kb)
    first = m.match("卡丢了怎么办")
    assert m.match("卡丢了怎么办") is first  # remembered, not scored again
    assert m.compute("卡丢了怎么办") == first
    assert m.match("通辽在哪里办").best.route == "city:通辽"


@pytest.mark.parametrize(
    "typed,meant",
    [
        ("吃峰见行在哪", "赤峰建行在哪"),  # two words typed by their sound
        ("通廖的地址", "通辽的地址"),
    ],
)
def test_a_word_typed_with_homophones_is_read_as_the_word(engine, typed, meant):
    """Pinyin input and voice-to-text type a wrong character of the same sound: read as the word meant."""
    analyzer = engine.matcher.analyzer
    assert analyzer.fix_typo(typed) == meant


@pytest.mark.parametrize("text", ["附件2那张表是干嘛的", "她那张卡在公司", "再问一下在哪办"])
def test_a_pronoun_or_function_word_is_never_a_homophone_typo(engine, text):
    """那/哪, 她/他, 在/再 sound alike but are the words the applicant meant."""
    assert engine.matcher.analyzer.fix_typo(text) == text


def test_a_city_typed_by_its_sound_gets_that_citys_offices(engine, kb):
    from dialogs.engine import Context

    screen = engine.ask(Context(user_id=1), "吃峰那个见行电话多少")
    assert screen.route == "city:赤峰"
    assert all(p in screen.text for o in kb.cities["赤峰"] for p in o.phones)


def test_a_latin_typo_keeps_its_first_letter(engine):
    """ "slot" is a word of its own, not a typo of "lost" (a lost card)."""
    from dialogs.engine import Context

    assert engine.ask(Context(user_id=1, lang="en"), "do i need to reserve a slot").route != "topic:reissue_lost"
    assert engine.ask(Context(user_id=1, lang="en"), "I lsot my card").route == "topic:reissue_lost"


@pytest.mark.parametrize("text", ["会计离职了", "公司要给他销掉", "公司新招了一个报关员"])
def test_a_correct_word_beside_a_known_one_is_not_corrected_into_it(engine, text):
    """A character that neither sounds near nor is a look-alike inside a long word is not a typo: 会计离职 is
    not 我离职 (a holder), 公司要 is not 公司名, 新招 is not 名招."""
    assert engine.matcher.analyzer.fix_typo(text) == text


@pytest.mark.parametrize(
    "typed,written",
    [
        ("俺们公司名儿改了 卡咋整", "我们公司名字改了 卡怎么办"),
        ("复印件盖合同章中不中", "复印件盖合同章行不行"),
        ("那个啥 要带啥去", "要带什么去"),
        ("卡整丢了", "卡丢了"),
        ("制卡中吗", "制卡中吗"),  # a status, not the dialect 中 (行)
        ("整理材料", "整理材料"),
    ],
)
def test_spoken_chinese_is_read_as_written(typed, written):
    from dialogs.matcher import normalise

    assert normalise(typed) == written


def test_a_verb_with_its_particle_is_not_a_homophone_target(engine):
    """两半了 is not 两搬了 (搬了, a move): a two-character word with a particle is no name to correct to."""
    assert "topic:change_address" not in engine.reader.plan("卡断成两半了").routes


def test_the_ranking_scores_are_bm25_okapis_to_the_last_bit(engine, kb):
    """The per-term scores worked out when the index is built give every route the score rank-bm25's
    own BM25Okapi gives it, bit for bit, for every question of the evaluation set (a faster ranking that
    changes no answer)."""
    from rank_bm25 import BM25Okapi

    from dialogs.matcher import BM25_B, BM25_K1, Postings, documents
    from tests.eval.__main__ import load_sets

    analyzer = engine.matcher.analyzer
    docs = documents(kb)
    corpus = [[term for text in texts for term in analyzer.terms(text, correct=False)] or ["\x00"] for texts in docs.values()]
    bm25 = BM25Okapi(corpus, k1=BM25_K1, b=BM25_B)
    postings = Postings(bm25)
    questions = [q for q, _ in QUESTIONS] + [q for groups in load_sets().values() for items in groups.values() for q, _ in items]
    assert len(questions) > 1000
    for question in questions:
        terms = analyzer.terms(question)
        assert postings.scores(terms).tobytes() == bm25.get_scores(terms).tobytes(), question


def test_a_text_read_again_while_answering_reads_as_the_first_time(engine):
    """Inside ``remembering`` (one question being answered) a text read again gets the same terms: corrected
    or not as asked, whatever a caller did with the list it got before."""
    analyzer = engine.matcher.analyzer
    typed = "营业执招复印件上写什么"
    corrected, as_typed = analyzer.terms(typed), analyzer.terms(typed, correct=False)
    assert corrected != as_typed  # (the typo is corrected only when asked)
    with analyzer.remembering():
        analyzer.terms(typed).append("卡丢")
        assert analyzer.terms(typed, correct=False) == as_typed
        assert analyzer.terms(typed) == corrected
    assert analyzer.terms(typed) == corrected
