"""The command line, run as a user runs it (a real subprocess)."""

import json
import os
import subprocess
import sys

from tests.conftest import FIXTURES, ROOT


def run(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "gridkb.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_ingest_then_stats_json(tmp_path):
    env = {**os.environ, "GRIDKB_CONFIG_DIR": str(ROOT / "kb")}
    result = run("ingest", str(FIXTURES / "mini_corpus"), "--kb", str(tmp_path / "kb"), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "documents" in result.stdout and "graph edges" in result.stdout
    stats = json.loads(run("kb", "stats", "--kb", str(tmp_path / "kb"), "--json", env=env).stdout)
    assert {"documents", "chunks", "faqs", "terms", "entities", "graph_nodes", "graph_edges"} <= set(stats)
    assert stats["documents"] == 5


def test_missing_kb_is_a_clean_error(tmp_path):
    result = run("kb", "stats", "--kb", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert "no knowledge base" in result.stderr and "Traceback" not in result.stderr


def test_every_command_has_help():
    for args in (["--help"], ["ingest", "--help"], ["kb", "stats", "--help"]):
        result = run(*args)
        assert result.returncode == 0 and "Usage" in result.stdout
