"""The chatbot through the service desk: multi-turn context, every intent, notices, tickets."""

from datetime import timedelta

import pytest

from gridkb.chat.bot import MAX_MESSAGE_CHARS
from gridkb.errors import InvalidMessageError
from gridkb.records import Priority, Queue, TicketOrigin


def test_follow_ups_are_answered_in_the_context_of_the_conversation(desk):
    first = desk.chat(None, "城区抢修多久能到？")
    assert first.resolved and "45 分钟" in first.answer
    follow = desk.chat(first.session_id, "那农村呢？")
    assert follow.resolved and "90 分钟" in follow.answer and "农村" in follow.question
    messages = desk.store.messages(first.session_id)
    assert [m.role for m in messages] == ["user", "bot", "user", "bot"]
    assert messages[-1].sources and messages[-1].confidence > 0  # what it answered, from where, how sure


def test_a_turn_reads_the_conversation_only_when_there_is_one_and_rewrites_once(desk, monkeypatch):
    reads, rewrites = [], []
    store_messages = desk.store.messages
    monkeypatch.setattr(desk.store, "messages", lambda session_id: reads.append(session_id) or store_messages(session_id))
    rewriter = desk.live.current().answerer.rewriter
    rewrite = rewriter.rewrite
    monkeypatch.setattr(rewriter, "rewrite", lambda question, history: rewrites.append(question) or rewrite(question, history))
    first = desk.chat(None, "城区抢修多久能到？")
    assert reads == [] and rewrites == ["城区抢修多久能到？"]  # a new conversation has nothing to read back
    follow = desk.chat(first.session_id, "那农村呢？")
    assert reads == [first.session_id] and rewrites[1:] == ["那农村呢？"]  # the bot's rewriting is the answerer's
    assert follow.resolved and "90 分钟" in follow.answer and "农村" in follow.question


def test_small_talk_needs_no_ticket(desk):
    for message in ("你好", "谢谢", "你是机器人吗"):
        reply = desk.chat(None, message)
        assert reply.resolved and reply.ticket_number is None and reply.answer
    assert desk.chat(None, "你好").suggestions  # popular questions to start from


def test_asking_for_a_human_opens_a_handoff_ticket(desk):
    session = desk.chat(None, "电费可以在哪里交？").session_id
    reply = desk.chat(session, "转人工")
    assert not reply.resolved and reply.ticket_number and reply.ticket_number in reply.answer
    ticket = desk.tickets.get(reply.ticket_number)
    assert ticket.origin is TicketOrigin.HANDOFF and ticket.queue is Queue.SERVICE
    assert ticket.category == "payment" and ticket.department  # carried from the conversation
    assert [t.text for t in ticket.transcript] == ["电费可以在哪里交？", desk.store.messages(session)[1].text, "转人工"]


def test_complaint_is_registered_with_its_sla(desk, clock):
    reply = desk.chat(None, "我要投诉，你们抢修师傅态度太差了")
    ticket = desk.tickets.get(reply.ticket_number)
    assert ticket.origin is TicketOrigin.COMPLAINT and ticket.priority is Priority.HIGH
    assert ticket.first_response_due == clock.now + timedelta(hours=24)
    assert ticket.due_at.date().isoformat() == "2026-12-01"  # Tue 24 Nov + 5 working days
    desk.chat(reply.session_id, "需要回电")
    confirmed = desk.chat(reply.session_id, "13812345678")
    assert "24 小时内" in confirmed.answer and confirmed.ticket_number == ticket.number  # the promise, once the contact is known


def test_danger_gets_safety_instructions_first_and_an_urgent_ticket(desk):
    reply = desk.chat(None, "门口电线断落了，还冒火花")
    assert reply.answer.startswith("【安全提示】") and "8 米" in reply.answer
    assert desk.tickets.get(reply.ticket_number).priority is Priority.URGENT
    hypothetical = desk.chat(None, "如果有人触电了应该怎么办")
    assert hypothetical.answer.startswith("【安全提示】") and hypothetical.ticket_number is None


def test_what_the_bot_cannot_answer_becomes_a_knowledge_gap_ticket(desk):
    reply = desk.chat(None, "低保户有没有电费补贴？")
    assert not reply.resolved and reply.ticket_number
    ticket = desk.tickets.get(reply.ticket_number)
    assert ticket.origin is TicketOrigin.ABSTAINED and ticket.queue is Queue.KNOWLEDGE
    assert desk.chat(None, "燃气费在哪里交？").ticket_number is None  # another service's question: no ticket
    assert desk.chat(None, "asdfghjklqwrtzxcvbnm").ticket_number is None


def test_power_cut_report_is_answered_from_the_notice(desk, clock):
    desk.notices.publish("planned_outage", "人民路 10kV 线路检修", ["人民路"], clock.now - timedelta(hours=1), clock.now + timedelta(hours=6),
                         cause="线路检修", restoration="预计 16:00 恢复送电")
    reply = desk.chat(None, "人民路停电了，什么时候来电？")
    assert reply.resolved and reply.reason == "notice" and "16:00" in reply.answer and "线路检修" in reply.answer
    assert reply.sources[0].section == "临时公告" and reply.ticket_number is None
    elsewhere = desk.chat(None, "我家停电了")
    assert "街道或小区" in elsewhere.answer  # asks where, since notices are in force


def test_feedback_and_negative_feedback_ticket(desk):
    reply = desk.chat(None, "电费可以在哪里交？")
    feedback, ticket = desk.feedback(reply.session_id, reply.message_id, helpful=True, rating=5)
    assert feedback.id and ticket is None
    _, ticket = desk.feedback(reply.session_id, reply.message_id, helpful=False, rating=1, comment="没说清楚，我电话13812345678")
    assert ticket is not None and ticket.origin is TicketOrigin.NEGATIVE_FEEDBACK
    assert "13812345678" not in desk.store.feedback_since(None)[-1].comment  # masked before it is stored
    with pytest.raises(InvalidMessageError):
        desk.feedback(reply.session_id, reply.message_id, rating=9)
    with pytest.raises(InvalidMessageError):
        desk.feedback("no-such-session", reply.message_id, helpful=True)


def test_bad_messages(desk):
    with pytest.raises(InvalidMessageError, match="过长"):
        desk.chat(None, "电" * (MAX_MESSAGE_CHARS + 1))
    with pytest.raises(InvalidMessageError, match="不存在"):
        desk.chat("no-such-session", "你好")
    empty = desk.chat(None, "   ")
    assert not empty.resolved  # empty: a polite prompt, no crash
    _, ticket = desk.feedback(empty.session_id, empty.message_id, helpful=False)  # even a bad rating of that prompt is recorded
    assert ticket is not None and ticket.question.startswith("（对回复的差评）")
