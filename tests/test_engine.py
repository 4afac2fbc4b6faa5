"""Node-by-node tests of the dialog engine: every screen, every button."""

from __future__ import annotations

import pytest

from dialogs.features import all_routes

from dialogs.engine import MAX_CALLBACK_BYTES, MAX_TEXT, callback_data, parse_callback
from dialogs.features.topics import full_answer

from .conftest import shipped_knowledge


def go_targets(screen):
    return [parse_callback(b.data)[1] for b in screen.all_buttons() if b.data and parse_callback(b.data)[0] == "go"]


def test_every_route_renders_within_telegram_limits(engine, ctx):
    for route in all_routes(engine):
        screen = engine.render(route, ctx)
        assert screen.text.strip(), route
        assert len(screen.text) <= MAX_TEXT and len(screen.html) <= MAX_TEXT, (route, len(screen.html))
        for b in screen.all_buttons():
            assert b.label.strip()
            if b.data:
                assert len(b.data.encode()) <= MAX_CALLBACK_BYTES, b.data


def test_every_button_leads_somewhere_that_renders(engine, ctx):
    seen, todo = set(), ["main"]
    while todo:
        route = todo.pop()
        if route in seen:
            continue
        seen.add(route)
        screen = engine.handle(ctx, callback_data("go", route))
        assert not screen.stale, route
        todo += go_targets(screen)
    # the menus reach every business, every city and the fact/material screens they link
    assert {f"topic:{t}" for t in engine.kb.businesses} <= seen
    assert {f"city:{c}" for c in engine.kb.cities} <= seen


def test_main_menu_offers_every_category_offices_online_and_help(engine, ctx):
    screen = engine.start(ctx)
    labels = [b.label for b in screen.all_buttons()]
    for c in engine.kb.categories.values():
        assert c.name in labels
    assert "📍 办理地点与电话" in labels and "🌐 网上办理" in labels and "❓ 帮助" in labels
    # checklists are not wired in this engine: the button is absent, not dead
    assert not any("清单" in label for label in labels)


@pytest.mark.parametrize("topic", list(shipped_knowledge().businesses))
def test_answer_screen_lists_every_material_rule_annotation_and_the_hotline(engine, ctx, kb, topic):
    """The whole answer (first screen, 📖 原文, 江苏省指南) has every rule verbatim; the first
    screen has every material, every annotation and the hotline, and the source is one tap away."""
    screen = engine.start(ctx, topic)
    first = screen.text
    text = full_answer(engine, ctx, topic)
    business = kb.businesses[topic]
    assert business.name in first and business.materials_line in text
    for ref in business.materials:
        m = kb.materials[ref.material]
        assert m.plain.zh in first
        assert (ref.listed_as or m.name) in text
        for rule in kb.rules_of(m.id):
            if rule.region == "jiangsu" and not kb.jiangsu_covers(topic):
                assert rule.text not in text  # the Jiangsu guide never speaks for a business it does not cover
            else:
                assert rule.text in text
        for rs in m.rulesets:
            for check in kb.rulesets[rs].checks:
                if check.annotation:
                    assert kb.annotations[check.annotation].text in first
    assert first.count("0470-2299089、2299090") == 1
    assert "满洲里制卡中心客服热线：0470-2299089、2299090" in text
    assert "来源" in engine.render(f"rules:{topic}", ctx).text and "核对日期 2026-11-24" in text
    labels = [b.label for b in screen.all_buttons()]
    assert {"📍 就近办理地点", "⋯ 更多"} <= set(labels)
    more = engine.render(f"more:{topic}", ctx)  # the rest one tap away
    assert {"🌐 网上办理", "⬅️ 返回", "🏠 主菜单", "📖 原文"} <= {b.label for b in more.all_buttons()}
    assert f"category:{business.category}" in go_targets(more) and f"rules:{topic}" in go_targets(more)


def test_reissue_lost_shows_seal_annotation_signature_and_date_rules(engine, ctx):
    text = full_answer(engine, ctx, "reissue_lost")
    for needle in [
        "业务申请书",
        "市场主体资格证明材料",
        "法定代表人身份证明材料",
        "持卡人身份证明材料",
        "经办人身份证明材料",
        "不得加盖合同章、财务章或其他业务专用章",
        "法定代表人（负责人）签名和申请日期",
        "个人签名和签字日期",
        "（公章和三处签注缺一不可）",
        "0470-2299089",
    ]:
        assert needle in text


def test_regional_differences_are_labelled(engine, ctx):
    text = engine.render("jiangsu:new_operator", ctx).text
    assert "要求用印泥盖章，公章不得复印" in text
    line = next(ln for ln in text.splitlines() if "要求用印泥盖章" in ln)
    assert "江苏省指南，仅适用于江苏省省内企业" in line
    assert "新增操作员卡单次可最多新增10个操作员卡。" in text


def test_where_the_documents_are_silent_the_bot_says_so(engine, ctx):
    assert "文件未说明本业务能否网上办理，请致电客服热线确认。" in engine.render("rules:unlock", ctx).text
    text = engine.start(ctx, "unlock").text
    assert "相关电子口岸卡介质 — 带上" in text and "文件没有写明是哪一张卡" in text


def test_holder_business_shows_both_descriptions(engine, ctx):
    text = full_answer(engine, ctx, "holder_cancel")
    assert "申请材料包括：业务申请书、持卡人身份证明材料等。" in text  # section 一.5
    assert "个人信息处理业务申请表（模板见附件2）" in text  # section 二
    assert "用于处理本人的电子口岸卡及用户信息" in text
    assert "需同时提交中文翻译材料（加盖翻译专用章）。" in text
    assert "或申请单位公章）。" not in text  # that alternative is for organisations only


@pytest.mark.parametrize(
    "data",
    [
        "",
        "garbage",
        "e0|g|main",
        "e1|g|topic:nope",
        "e1|g|category:",
        "e1|zz|x",
        "e1|g|" + "a" * 60,
        "e1|g|topic:reissue_lost|extra",
        "e1|g|<b>",
        "\x00\xff",
    ],
)
def test_stale_or_forged_buttons_get_a_fresh_menu(engine, ctx, data):
    screen = engine.handle(ctx, data)
    assert screen.stale and screen.route == "main"
    assert "此菜单已过期" in screen.text and screen.toast


def test_start_payloads(engine, ctx):
    assert engine.start(ctx, "reissue_lost").route == "topic:reissue_lost"
    assert engine.start(ctx, "").route == "main"
    unknown = engine.start(ctx, "<script>")
    assert unknown.route == "main" and "未找到该业务" in unknown.text and "<script>" not in unknown.html


def test_free_text_answer_or_suggestions(engine, ctx):
    assert engine.ask(ctx, "卡丢了怎么办").route == "topic:reissue_lost"
    unsure = engine.ask(ctx, "注销")
    assert unsure.route == "suggest" and 2 <= len(go_targets(unsure)) - 2 <= 3
    nothing = engine.ask(ctx, "今天天气怎么样")
    assert nothing.route == "suggest" and "0470-2299089" in nothing.text
    hostile = engine.ask(ctx, "<b>丢失</b> & <i>")
    assert "<b>丢失</b>" not in hostile.html


def test_label_templates_are_not_html_escaped(engine, ctx):
    screen = engine.render("offices", ctx)
    assert all("&" not in b.label for b in screen.all_buttons())
