"""Answer text from passages: whole units, the ones that hold what was asked, in passage order."""

from gridkb.application.compose import MAX_ANSWER_CHARS, complete_answer, compose_passages, extract, with_alternative
from gridkb.application.search import SearchHit
from gridkb.records import Chunk, ChunkKind

GUIDE = "居民峰谷分时电价实行自愿选择原则。\n时段：高峰；时间：10:00–12:00、14:00–19:00；比例：1.7\n时段：低谷；时间：0:00–8:00；比例：0.38\n选择后 12 个月内不能变更。"


def _hit(text: str, kind: ChunkKind = ChunkKind.TEXT, cid: str = "c1") -> SearchHit:
    chunk = Chunk(cid, "d", "guide.md", kind, ("指南", "一"), text, 0, "public")
    return SearchHit(chunk, 1.0, {}, text[:40], ())


def test_extract_keeps_the_table_that_holds_what_was_asked_and_the_order():
    def price_words(unit: str) -> float:
        return 2.0 if "比例" in unit else (1.5 if "峰谷" in unit else 0.0)

    text = extract(GUIDE, price_words)
    assert "1.7" in text and "0.38" in text  # the whole table, never half of it
    assert text.index("自愿") < text.index("1.7")  # kept in the passage's order
    assert "12 个月" not in text  # a unit that scores nothing is left out
    assert len(extract("。".join(["很长的一句话" * 10] * 10) + "。", lambda unit: 1.0)) <= MAX_ANSWER_CHARS


def test_passages_compose_with_the_lower_passage_needing_a_better_unit():
    first, second = _hit(GUIDE, cid="a"), _hit("峰谷电价的申请渠道：南网在线 APP、95598。", cid="b")
    composed = compose_passages([first, second], lambda unit: 3.0 if "高峰" in unit or "APP" in unit else 0.1)
    assert "1.7" in composed.text and "南网在线" in composed.text
    assert [h.chunk.id for h in composed.used] == ["a", "b"]
    assert compose_passages([], lambda unit: 1.0).text == ""


def test_a_best_passage_that_holds_what_was_asked_answers_alone():
    charging = _hit("充电设施类型：居民家庭住宅充电设施；执行电价：居民合表电价；说明：也可选择峰谷分时电价", cid="charging")
    words = lambda unit: 4.0 if "峰谷分时电价" in unit else (2.0 if "比例" in unit else 0.5)  # noqa: E731
    price = lambda unit: "比例" in unit or "电价" in unit  # noqa: E731
    # without the kind asked, a lower passage's unit that repeats more of the question's words comes in
    assert "充电设施" in compose_passages([_hit(GUIDE, cid="guide"), charging], words).text
    composed = compose_passages([_hit(GUIDE, cid="guide"), charging], words, holds_asked=price)
    assert "1.7" in composed.text and "充电设施" not in composed.text and [h.chunk.id for h in composed.used] == ["guide"]
    # a best passage without it still draws on the next one
    rules = _hit("选择后 12 个月内不能变更。", cid="rules")
    assert "充电设施" in compose_passages([rules, charging], words, holds_asked=lambda unit: "比例" in unit or "执行电价" in unit).text


def test_an_answer_without_what_was_asked_is_completed_from_the_next_candidate():
    faq = _hit("问：峰谷电价怎么算？\n答：居民峰谷分时电价为自愿选择。", ChunkKind.FAQ, "faq")
    text, used = complete_answer(faq.chunk.answer_text, [faq], [_hit(GUIDE)], ["峰谷", "时段"], lambda unit: "比例" in unit)
    assert text.startswith("居民峰谷分时电价为自愿选择。") and "0.38" in text and len(used) == 2
    same, only = complete_answer("电价比例为 1.7 : 1 : 0.38。", [faq], [_hit(GUIDE)], ["峰谷"], lambda unit: "比例" in unit)
    assert same == "电价比例为 1.7 : 1 : 0.38。" and only == [faq]  # it already holds what was asked


def test_a_nearly_as_likely_answer_follows_under_its_own_question_unless_it_repeats_or_overflows():
    top = _hit("问：居民峰谷电价的高峰时段是几点？\n答：高峰时段为 10:00–12:00 和 14:00–19:00。", ChunkKind.FAQ, "peak")
    valley = _hit("问：低谷时段是几点？\n答：低谷时段为 0:00–8:00。", ChunkKind.FAQ, "valley")
    answer = top.chunk.answer_text
    text, used = with_alternative(answer, [top], [("居民峰谷电价的低谷时段是几点？", "低谷时段为 0:00–8:00。", valley)])
    assert text == f"{answer}\n\n如果您想问的是「居民峰谷电价的低谷时段是几点」：低谷时段为 0:00–8:00。"
    assert [h.chunk.id for h in used] == ["peak", "valley"]
    # an answer that mostly repeats what is said already is passed over for the next one
    repeat = ("高峰时段是几点？", "高峰时段为 10:00–12:00 和 14:00–19:00，请错峰用电。", valley)
    text, used = with_alternative(answer, [top], [repeat, ("低谷时段是几点？", "低谷时段为 0:00–8:00。", valley)])
    assert "请错峰用电" not in text and text.endswith("低谷时段为 0:00–8:00。")
    # one that would make the answer too long for a chat bubble is left out
    long_answer = "低谷时段的说明" * (MAX_ANSWER_CHARS // 7)
    assert with_alternative(answer, [top], [("低谷时段是几点？", long_answer, valley)]) == (answer, [top])
    assert with_alternative(answer, [top], []) == (answer, [top])


def test_items_taken_out_of_a_numbered_list_lose_their_numbers():
    rules = "1. 申请方式：营业厅。\n2. 执行要求：需要分时电表。\n3. 变更限制：12 个月内不能变更。\n4. 温馨提示：低谷时段用电更省。"
    text = extract(rules, lambda unit: 1.0 if "要求" in unit or "提示" in unit else 0.0)
    assert text == "执行要求：需要分时电表。\n温馨提示：低谷时段用电更省。"  # not "2. …\n4. …"
    composed = compose_passages([_hit(rules)], lambda unit: 1.0 if "要求" in unit else 0.0)
    assert composed.text == "执行要求：需要分时电表。"
    # a figure is not an item number, and a list kept whole with its announcing line keeps its numbers
    assert extract("1.7 倍为高峰电价。", lambda unit: 1.0) == "1.7 倍为高峰电价。"
    assert extract("7、8、9 月执行尖峰电价。", lambda unit: 1.0) == "7、8、9 月执行尖峰电价。"
    steps = "办理流程如下：\n1. 提交申请；\n2. 现场勘查；\n3. 装表接电。"
    assert extract(steps, lambda unit: 1.0) == steps
    # nor does the unit that completes a curated answer from the next passage
    completed, _ = complete_answer("峰谷电价为自愿选择。", [], [_hit(rules)], ["峰谷电价", "执行要求", "分时电表"])
    assert completed == "峰谷电价为自愿选择。\n执行要求：需要分时电表。"
