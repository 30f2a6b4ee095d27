"""The business taxonomy from ``kb/taxonomy.yaml``: categories with their responsible departments.

Validation errors name the file and line ("kb/taxonomy.yaml 第 12 行: 类别 'billing' 缺少 department"),
so an operator who edits the file can fix it without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gridkb.errors import ConfigError

TAXONOMY_FILE = "taxonomy.yaml"  # in the configuration folder (kb/, or the one a build carries)
UNKNOWN = "unknown"
_REQUIRED = ("code", "name", "department")


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    department: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    parent: str = ""


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    children: tuple[Category, ...] = field(default=())

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.categories]

    def get(self, code: str) -> Category | None:
        return next((c for c in (*self.categories, *self.children) if c.code == code), None)

    def department(self, code: str) -> str:
        category = self.get(code)
        if category is None:
            return ""
        if category.parent:
            parent = self.get(category.parent)
            return parent.department if parent else ""
        return category.department

    @classmethod
    def from_config(cls, config_dir: Path) -> "Taxonomy":
        """The taxonomy of the configuration folder ``config_dir``; raises ConfigError like ``load``."""
        return cls.load(config_dir / TAXONOMY_FILE)

    @classmethod
    def load(cls, path: Path) -> "Taxonomy":
        """Parse and validate the taxonomy file; raises ConfigError naming the line of the problem."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: missing; the taxonomy lives in the kb configuration folder") from None
        try:
            root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 10 times faster
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" 第 {mark.line + 1} 行" if mark else ""
            raise ConfigError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
        items = _mapping_value(root, "categories") if isinstance(root, yaml.MappingNode) else None
        if not isinstance(items, yaml.SequenceNode) or not items.value:
            raise ConfigError(f"{path} 第 {(root.start_mark.line + 1) if root else 1} 行: expected a non-empty 'categories:' list")
        categories, children = [], []
        for node in items.value:
            category = _category(path, node, parent="")
            categories.append(category)
            child_nodes = _mapping_value(node, "children")
            for child in child_nodes.value if isinstance(child_nodes, yaml.SequenceNode) else []:
                children.append(_category(path, child, parent=category.code))
        seen: set[str] = set()
        for category, node in zip([*categories, *children], _all_nodes(items)):
            if category.code in seen:
                raise ConfigError(f"{path} 第 {node.start_mark.line + 1} 行: 类别代码 '{category.code}' 重复")
            seen.add(category.code)
        return cls(tuple(categories), tuple(children))


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _all_nodes(items: yaml.SequenceNode) -> list[yaml.Node]:
    nodes = list(items.value)
    for node in items.value:
        child_nodes = _mapping_value(node, "children")
        if isinstance(child_nodes, yaml.SequenceNode):
            nodes.extend(child_nodes.value)
    return nodes


def _strings(path: Path, node: yaml.Node | None, key: str, code: str) -> tuple[str, ...]:
    if node is None:
        return ()
    if not isinstance(node, yaml.SequenceNode) or not all(isinstance(v, yaml.ScalarNode) for v in node.value):
        raise ConfigError(f"{path} 第 {node.start_mark.line + 1} 行: 类别 '{code}' 的 {key} 应是字符串列表")
    return tuple(str(v.value) for v in node.value if str(v.value).strip())


def _category(path: Path, node: yaml.Node, parent: str) -> Category:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path} 第 {line} 行: 每个类别应是一个映射（code, name, department …）")
    values = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    code = str(values["code"].value) if isinstance(values.get("code"), yaml.ScalarNode) else ""
    required = ("code", "name") if parent else _REQUIRED
    for key in required:
        value = values.get(key)
        if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            raise ConfigError(f"{path} 第 {line} 行: 类别 '{code or '?'}' 缺少 {key}")
    scalar = lambda key: str(values[key].value) if isinstance(values.get(key), yaml.ScalarNode) else ""  # noqa: E731
    return Category(
        code=code,
        name=scalar("name"),
        department=scalar("department"),
        description=scalar("description"),
        keywords=_strings(path, values.get("keywords"), "keywords", code),
        examples=_strings(path, values.get("examples"), "examples", code),
        parent=parent,
    )
