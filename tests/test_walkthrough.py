"""The online walkthrough: one screen per step, in order, quotes verbatim and labelled."""

from __future__ import annotations

import pytest

from dialogs.engine import Context, callback_data, parse_callback
from dialogs.features.online import walk_track


def go(screen, label):
    b = next(b for b in screen.all_buttons() if b.label == label)
    return parse_callback(b.data)[1]


def test_next_and_previous_chain_through_every_step_in_order(engine, kb):
    ctx = Context()
    ids = [s.id for s in kb.steps]
    assert ids[0] == "mzl_path" and len(ids) == 12
    screen = engine.render("online", ctx)
    route = go(screen, "🧭 分步指引")
    seen = []
    while True:
        screen = engine.handle(ctx, callback_data("go", route))
        seen.append(screen.route.split(":")[1])
        assert f"第 {len(seen)}/12 步" in screen.text
        labels = [b.label for b in screen.all_buttons()]
        assert ("⬅️ 上一步" in labels) == (len(seen) > 1)
        if "下一步 ➡️" not in labels:
            break
        route = go(screen, "下一步 ➡️")
    assert seen == ids
    assert go(screen, "⬅️ 上一步") == f"walk:{ids[-2]}"


def test_steps_cover_the_guide(engine, kb):
    text = "\n".join(engine.render(f"walk:{s.id}", Context()).text for s in kb.steps)
    for needle in [
        "［注册新用户］――［企业用户］――［无卡用户］",
        "【用户密码】",
        "新办业务—办卡申请",
        "选择制卡机构",
        "邮寄业务委托书",
        "“暂存”状态的操作员卡信息不能提交",
        "每个操作员仅可办理 1 个操作员卡",
        "单次可最多新增10个操作员卡",
        "“备注”为必填项",
        "委托书还需法人签字并加盖法人章",
        "申请单位声明",
        "手机短信验证码",
        "确认无误",
        "“需提供介质”、“制卡中”、“已处理”",
        "7日之内修改重新提交",
        "1张法人卡、1张操作员卡",
        "自费购卡",
        "jpg、jpeg、png、pdf，单个文件大小不超过3MB",
        "前往选取的制卡机构领取电子口岸卡",
    ]:
        assert needle in text, needle


def test_regional_quotes_are_labelled(engine):
    text = engine.render("walk:remark", Context()).text
    line = next(ln for ln in text.splitlines() if "南京江北、吴江、高邮、盐城" in ln)
    assert "仅适用于江苏省省内企业" in line
    pickup = next(ln for ln in text.splitlines() if "前往选取的制卡机构领取电子口岸卡" in ln)
    assert "满洲里文件" in pickup
    assert "出自江苏省指南" in text
    assert "出自江苏省指南" not in engine.render("walk:mzl_path", Context()).text


def test_walkthrough_is_reachable_from_answers_and_free_text(engine):
    topic = engine.render(go(engine.start(Context(), "new_operator"), "⋯ 更多"), Context())
    assert go(topic, "🧭 网上办理分步指引") == "walk:new_operator.mzl_path"
    assert "🧭 网上办理分步指引" not in [b.label for b in engine.render("more:unlock", Context()).all_buttons()]
    assert engine.ask(Context(), "网上办理").route == "online"
    # the single fact that answers it, one tap from its walkthrough step
    answer = engine.ask(Context(), "暂存的操作员为什么提交不了")
    assert answer.route == "answer:temp_save"
    assert go(answer, "➡️ 操作员卡信息") == "walk:operator_info"
    assert engine.ask(Context(), "备注怎么填").route == "walk:remark"


@pytest.mark.parametrize("lang", ["zh", "ru", "en"])
def test_the_header_says_whose_steps_these_are_and_that_manzhouli_describes_none_of_them(engine, kb, lang):
    """Neither document says the unlabelled Jiangsu steps apply in Manzhouli, nor that the labelled ones do not:
    the header says the steps are the Jiangsu guide's and the Manzhouli document gives one paragraph (方式二)."""
    manzhouli = next(s.file for s in kb.sources.values() if s.region == "manzhouli")
    said = {
        "zh": ("出自江苏省指南", "只有一段话（方式二）", "没有写这些步骤"),
        "ru": ("из руководства Цзянсу", "одним абзацем (方式二)", "этих шагов не содержит"),
        "en": ("from the Jiangsu guide", "in one paragraph (方式二)", "does not give these steps"),
    }[lang]
    for topic in [None, *kb.businesses]:
        for step in walk_track(kb, topic):
            route = f"walk:{topic}.{step.id}" if topic else f"walk:{step.id}"
            text = engine.render(route, Context(lang=lang)).text
            assert (
                "不适用于满洲里" not in text and "not apply to Manzhouli" not in text and "к Маньчжурии не относится" not in text
            )
            if step.source == manzhouli:
                assert said[0] not in text, route
            else:
                assert all(s in text for s in said), (route, lang)
