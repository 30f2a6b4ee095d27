"""The closed loop end to end: a question the bot cannot answer → ticket → resolution published →
the same question and a paraphrase answered from the new source. Plus gaps, metrics and the CLI."""

import json
from datetime import timedelta

from typer.testing import CliRunner

from gridkb.cli import app
from gridkb.ingest import ingest
from gridkb.records import Publication, Queue, TicketStatus
from gridkb.service import GridService

QUESTION = "低保户有没有电费补贴？"
PARAPHRASE = "低保家庭交电费能享受补贴吗"
ANSWER = "目前本地对城乡低保户、特困供养人员每户每月给予 15 千瓦时免费用电基数，由民政部门核定名单后自动执行，无需申请。"


def test_a_resolved_ticket_teaches_the_bot(fresh_kb, tmp_path, clock):
    settings, corpus = fresh_kb
    settings = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'service.sqlite'}", "published_dir": tmp_path / "published"})
    ingest([corpus], settings)
    desk = GridService(settings, clock=clock)
    before = desk.live.current().generation

    first = desk.chat(None, QUESTION)
    assert not first.resolved and first.ticket_number
    number = first.ticket_number
    desk.tickets.assign(number, "agent-7", "lead")
    desk.tickets.transition(number, TicketStatus.IN_PROGRESS, "agent-7")
    ticket = desk.tickets.resolve(number, ANSWER, "agent-7", publish=True)
    assert ticket.publication is Publication.DRAFT
    assert not desk.chat(None, QUESTION).resolved  # a draft is not knowledge yet

    ticket, report = desk.publisher.approve(number, "admin-1")
    assert ticket.publication is Publication.PUBLISHED
    assert ticket.events[-1].actor == "admin-1" and ticket.events[-1].action == "approved"  # recorded in the history
    assert len(report.added) == 1 and report.added[0].endswith(f"{number}.json")
    assert report.embedded <= 3 and report.documents == 6  # incremental: only the new entry was embedded, the corpus kept
    assert desk.live.current().generation != before

    for question in (QUESTION, PARAPHRASE):
        reply = desk.chat(None, question)
        assert reply.resolved, question
        assert "15 千瓦时" in reply.answer and reply.sources[0].title.startswith("工单答复"), question
    provenance = json.loads((settings.published_path / f"{number}.json").read_text(encoding="utf-8"))["provenance"]
    assert provenance == provenance | {"ticket": number, "agent": "agent-7", "approved_by": "admin-1"}

    # a rebuild from the corpus keeps the published answer
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(corpus), "--kb", str(settings.kb_dir), "--json"], env={"GRIDKB_PUBLISHED_DIR": str(settings.published_path), "GRIDKB_CONFIG_DIR": str(settings.config_dir), "GRIDKB_CLASSIFIER_TRAINING": str(settings.classifier_training)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["removed"] == []


def test_gaps_cluster_failed_questions_and_tell_service_problems_apart(desk):
    for question in ("低保户有没有电费补贴？", "低保家庭有电费补贴吗", "低保户电费能减免吗", "电动自行车上牌照在哪办？"):
        desk.chat(None, question)
    desk.chat(None, "我要投诉，抢修师傅态度太差了")
    reply = desk.chat(None, "电费可以在哪里交？")
    desk.feedback(reply.session_id, reply.message_id, helpful=False, comment="没说营业厅地址")
    gaps = desk.gaps()
    assert gaps[0].count >= 3 and "低保" in gaps[0].question and gaps[0].queue is Queue.KNOWLEDGE
    assert [g.count for g in gaps] == sorted((g.count for g in gaps), reverse=True)
    assert any(g.queue is Queue.SERVICE and "投诉" in g.question for g in gaps)
    assert all("牌照" not in g.question for g in gaps)  # another service's question is no gap of ours
    assert any(g.question == "电费可以在哪里交？" for g in gaps)  # badly rated answers count


def test_metrics(desk, clock):
    desk.chat(None, "电费可以在哪里交？")
    session = desk.chat(None, "你好").session_id
    desk.chat(session, "城区抢修多久能到？")
    handoff = desk.chat(None, "转人工")
    ticket = handoff.ticket_number
    desk.tickets.assign(ticket, "agent-7", "lead")
    clock.advance(minutes=30)
    desk.tickets.transition(ticket, TicketStatus.IN_PROGRESS, "agent-7")
    clock.advance(hours=2)
    desk.tickets.resolve(ticket, "已电话联系客户处理", "agent-7")
    reply = desk.chat(None, "低保户有没有电费补贴？")
    desk.feedback(reply.session_id, reply.message_id, rating=4)
    m = desk.metrics()
    assert m.conversations == 4 and m.tickets == 2
    assert m.bot_resolution_rate == 0.5  # 2 of 4 substantive conversations closed by the bot alone
    assert m.transfer_rate == 0.25
    assert m.tickets_by_status == {"resolved": 1, "new": 1} and m.tickets_by_origin == {"handoff": 1, "abstained": 1}
    assert m.median_first_response_minutes == 30.0 and m.median_resolution_hours == 2.5
    assert m.sla_resolution_compliance == 1.0 and m.mean_rating == 4.0
    assert m.top_gaps and m.daily[0]["conversations"] == 4


def test_cli_notices_tickets_metrics(desk, clock):
    settings = desk.settings
    common = ["--kb", str(settings.kb_dir), "--db", settings.database_url]
    env = {"GRIDKB_CONFIG_DIR": str(settings.config_dir), "GRIDKB_PUBLISHED_DIR": str(settings.published_path)}
    runner = CliRunner()
    start = (clock.now - timedelta(hours=1)).isoformat(timespec="minutes")
    end = (clock.now + timedelta(days=3650)).isoformat(timespec="minutes")
    added = runner.invoke(app, ["notices", "add", "--title", "人民路检修", "--area", "人民路", "--from", start, "--to", end, "--json", *common], env=env)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["notices", "list", "--json", *common], env=env)
    assert json.loads(listed.output)[0]["title"] == "人民路检修"
    bad = runner.invoke(app, ["notices", "add", "--title", "x", "--area", "a区", "--from", end, "--to", start, *common], env=env)
    assert bad.exit_code == 2 and "结束时间" in bad.output
    created = runner.invoke(app, ["tickets", "create", "--question", "客户反映电压偏低", "--category", "outage", "--as", "agent-1", *common], env=env)
    assert created.exit_code == 0 and "生产指挥中心" in created.output and "办结时限" in created.output
    number = created.output.split()[1]
    moved = runner.invoke(app, ["tickets", "move", number, "resolved", *common], env=env)
    assert moved.exit_code == 2 and "resolve" in moved.output  # a clear error, no traceback
    triaged = runner.invoke(app, ["tickets", "move", number, "triaged", *common], env=env)
    assert triaged.exit_code == 0 and f"工单 {number}：已分诊" in triaged.output, triaged.output  # labels, not codes
    shown = runner.invoke(app, ["tickets", "show", number, "--json", *common], env=env)
    assert json.loads(shown.output)["events"][0]["actor"] == "agent-1"
    result = runner.invoke(app, ["metrics", "--json", *common], env=env)
    assert result.exit_code == 0 and json.loads(result.output)["tickets"] == 1


def test_cli_keys_create_list_revoke(desk):
    from gridkb.tickets.keys import hash_key

    settings = desk.settings
    common = ["--kb", str(settings.kb_dir), "--db", settings.database_url]
    env = {"GRIDKB_CONFIG_DIR": str(settings.config_dir), "GRIDKB_PUBLISHED_DIR": str(settings.published_path)}
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "agent-9", *common], env=env)
    assert created.exit_code == 0, created.output
    key_id, key = created.output.split()[1], created.output.split()[-1]
    assert key.startswith("agt_") and desk.store.api_key(hash_key(key)) == ("agent-9", "agent", "")
    listed = json.loads(runner.invoke(app, ["keys", "list", "--json", *common], env=env).output)
    assert [k["id"] for k in listed] == [key_id] and key not in json.dumps(listed)
    assert runner.invoke(app, ["keys", "revoke", key_id, *common], env=env).exit_code == 0
    assert desk.store.api_key(hash_key(key)) is None  # refused from now on
    again = runner.invoke(app, ["keys", "revoke", key_id, *common], env=env)
    assert again.exit_code == 2 and "no live key" in again.output
    assert runner.invoke(app, ["keys", "create", "x", "--role", "widget", *common], env=env).exit_code == 2


def test_cli_chat_in_the_terminal(desk):
    settings = desk.settings
    env = {"GRIDKB_CONFIG_DIR": str(settings.config_dir), "GRIDKB_PUBLISHED_DIR": str(settings.published_path)}
    result = CliRunner().invoke(
        app, ["chat", "--kb", str(settings.kb_dir), "--db", settings.database_url], input="城区抢修多久能到？\n那农村呢？\n/good\n转人工\n需要回电\n1381234\n13812345678\n/quit\n", env=env
    )
    assert result.exit_code == 0, result.output
    assert "45 分钟" in result.output and "90 分钟" in result.output and "感谢评价" in result.output
    assert "工单 GD" in result.output and "可回复：需要回电 / 不用了" in result.output
    flat = "".join(result.output.split())  # the terminal wraps long lines
    assert "号码格式不正确" in flat and "已记录联系电话138****5678" in flat  # the same collection as the widget
