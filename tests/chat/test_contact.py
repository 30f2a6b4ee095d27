"""After a handoff the bot collects how to reach the customer (and, for power cuts and dangers, where);
danger replies fit the danger and cite the corpus; a bare 转人工 is no knowledge gap."""

import shutil

import pytest

from gridkb.chat.contact import ACCEPT, BAD_PHONE, CONSENT, DECLINE, parse_phone
from gridkb.chat.safety import Danger, classify_danger
from gridkb.records import Priority, Queue, TicketOrigin
from tests.conftest import FIXTURES, ROOT

SAFETY_DOCS = ("电力设施保护与用电安全须知.md", "安全用电问答.md")  # the corpus's safety material, as shipped


@pytest.fixture(scope="module")
def safety_settings(built_kb, tmp_path_factory):
    """The mini corpus plus the corpus's safety documents (embeddings reused from the session knowledge base)."""
    from gridkb.ingest import ingest

    session_settings, _, _ = built_kb
    base = tmp_path_factory.mktemp("safety_kb")
    corpus = base / "corpus"
    shutil.copytree(FIXTURES / "mini_corpus", corpus)
    for name in SAFETY_DOCS:
        shutil.copy(ROOT / "corpus" / "public" / name, corpus / "public" / name)
    (base / "kb").mkdir()
    shutil.copy(session_settings.kb_dir / "embeddings.sqlite", base / "kb" / "embeddings.sqlite")
    settings = session_settings.model_copy(update={"kb_dir": base / "kb"})
    ingest([corpus], settings)
    return settings


@pytest.fixture()
def safety_desk(safety_settings, tmp_path, clock):
    from gridkb.service import GridService

    settings = safety_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'service.sqlite'}", "published_dir": tmp_path / "published"})
    return GridService(settings, clock=clock)


def _unanswered(desk):
    reply = desk.chat(None, "低保户有没有电费补贴？")
    assert not reply.resolved and reply.ticket_number and reply.ticket_number in reply.answer
    assert list(reply.choices) == [ACCEPT, DECLINE] and reply.input == ""
    return reply


def test_accepting_a_call_back_with_a_valid_phone(desk):
    offer = _unanswered(desk)
    ask = desk.chat(offer.session_id, ACCEPT)
    assert ask.input == "phone" and CONSENT in ask.answer and ask.ticket_number is None
    done = desk.chat(offer.session_id, "138 1234 5678")
    assert done.ticket_number == offer.ticket_number and offer.ticket_number in done.answer
    assert "138****5678" in done.answer and "24 小时内" in done.answer and done.input == "" and not done.choices
    ticket = desk.tickets.get(offer.ticket_number)
    assert ticket.contact == "13812345678" and ticket.origin is TicketOrigin.ABSTAINED
    assert ticket.events[-1].action == "contact" and ticket.events[-1].detail == {"contact": "138****5678"}
    stored = [m.text for m in desk.store.messages(offer.session_id)]
    assert "13812345678" not in "".join(stored) and "138 1234 5678" not in stored  # the chat log keeps it masked
    assert "138 **** 5678" in stored
    again = desk.chat(offer.session_id, "电费可以在哪里交？")  # the collection is over: questions are answered again
    assert again.resolved and not again.choices


def test_an_invalid_phone_is_refused_clearly_then_a_landline_is_taken(desk):
    offer = _unanswered(desk)
    desk.chat(offer.session_id, ACCEPT)
    wrong = desk.chat(offer.session_id, "1381234")
    assert wrong.error == BAD_PHONE and wrong.input == "phone" and BAD_PHONE in wrong.answer
    assert desk.tickets.get(offer.ticket_number).contact == ""
    letters = desk.chat(offer.session_id, "abc")
    assert letters.error == BAD_PHONE
    done = desk.chat(offer.session_id, "０７５５－１２３４５６７８")  # full-width, as some input methods type it
    assert done.error == "" and "0755-*****678" in done.answer
    assert desk.tickets.get(offer.ticket_number).contact == "0755-12345678"


def test_declining_still_gives_the_ticket_number(desk):
    offer = _unanswered(desk)
    declined = desk.chat(offer.session_id, DECLINE)
    assert declined.ticket_number == offer.ticket_number and offer.ticket_number in declined.answer
    assert "95598" in declined.answer and not declined.choices and declined.input == ""
    assert desk.tickets.get(offer.ticket_number).contact == ""


def test_a_new_question_instead_of_a_number_leaves_the_collection(desk):
    offer = desk.chat(None, "转人工")
    assert offer.choices
    desk.chat(offer.session_id, ACCEPT)
    answered = desk.chat(offer.session_id, "城区抢修多久能到？")
    assert answered.resolved and "45 分钟" in answered.answer and answered.input == ""


def test_a_power_cut_handoff_asks_for_the_address_too(desk):
    offer = desk.chat(None, "我家停电了，转人工")
    assert list(offer.choices) == [ACCEPT, DECLINE]
    desk.chat(offer.session_id, ACCEPT)
    where = desk.chat(offer.session_id, "13912345678")
    assert where.input == "address" and "139****5678" in where.answer
    short = desk.chat(offer.session_id, "家里")
    assert short.input == "address" and short.error
    done = desk.chat(offer.session_id, "幸福路 12 号 3 栋 502")
    ticket = desk.tickets.get(offer.ticket_number)
    assert ticket.address == "幸福路 12 号 3 栋 502" and ticket.contact == "13912345678"
    assert "幸福路 12 号" in done.answer and "2 小时内" in done.answer


DANGERS = [
    ("家里闻到电线烧焦味", Danger.INDOOR_SMOKE, "总开关"),
    ("路边电线断了掉在地上", Danger.FALLEN_WIRE, "8 米"),
    ("我爸触电了倒在地上", Danger.ELECTROCUTION, "120"),
    ("小区配电房被水淹了", Danger.FLOODING, "蹚水"),
    ("门口的大树压在电线上了", Danger.TREE, "修剪"),
]


@pytest.mark.parametrize(("message", "danger", "advice"), DANGERS)
def test_danger_advice_fits_the_danger_cites_the_corpus_and_takes_the_address(safety_desk, message, danger, advice):
    assert classify_danger(message).danger is danger
    reply = safety_desk.chat(None, message)
    assert reply.answer.startswith("【安全提示】") and advice in reply.answer
    assert reply.sources and reply.sources[0].title.startswith("示例供电局") and "安全" in reply.sources[0].title
    if danger is Danger.INDOOR_SMOKE:
        assert "8 米" not in reply.answer  # not the outdoor fallen-wire advice
    assert reply.input == "address" and reply.ticket_number and "地址" in reply.answer
    phone = safety_desk.chat(reply.session_id, "人民路 88 号")
    assert phone.input == "phone" and CONSENT in phone.answer
    done = safety_desk.chat(reply.session_id, DECLINE)
    ticket = safety_desk.tickets.get(reply.ticket_number)
    assert ticket.priority is Priority.URGENT and ticket.queue is Queue.URGENT and ticket.address == "人民路 88 号"
    assert reply.ticket_number in done.answer and "人民路 88 号" in done.answer


def test_a_hypothetical_danger_gets_advice_but_no_ticket(safety_desk):
    reply = safety_desk.chat(None, "如果有人触电了应该怎么办")
    assert "120" in reply.answer and reply.sources and reply.ticket_number is None and reply.input == ""


def test_a_bare_handoff_takes_the_last_real_question_and_is_no_gap(desk):
    first = desk.chat(None, "电费可以在哪里交？")
    desk.chat(first.session_id, "谢谢")
    handoff = desk.chat(first.session_id, "麻烦帮我转人工")
    ticket = desk.tickets.get(handoff.ticket_number)
    assert ticket.question == "电费可以在哪里交？" and ticket.category == "payment" and ticket.origin is TicketOrigin.HANDOFF
    assert "取自对话中最近的提问" in ticket.events[0].detail["reason"]  # the ticket says where its question came from
    alone = desk.chat(None, "转人工")
    assert desk.tickets.get(alone.ticket_number).question == "转人工"
    asked = desk.chat(None, "电表走得太快了，转人工")  # a handoff with a question of its own keeps it
    assert "电表" in desk.tickets.get(asked.ticket_number).question
    questions = {q for gap in desk.gaps() for q in gap.examples}
    assert "转人工" not in questions and "麻烦帮我转人工" not in questions and "电费可以在哪里交？" not in questions


@pytest.mark.parametrize(
    ("text", "expected"),
    [("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("我的电话是 19912345678", "19912345678"),
     ("0755-12345678", "0755-12345678"), ("010 8765432", "010-8765432"), ("(020)87654321", "020-87654321"),
     ("12812345678", None), ("1381234567", None), ("138123456789", None), ("12345678", None), ("0755-123", None), ("0755-02345678", None)],
)
def test_phone_numbers(text, expected):
    assert parse_phone(text) == expected
