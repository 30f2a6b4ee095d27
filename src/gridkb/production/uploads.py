"""Documents uploaded through the API: each one carries its audience and validity explicitly.

An upload holds documents, optionally a ``<file>.meta.yaml`` sidecar beside any of them (the corpus's
own format, see ``meta``), and form fields (audience, valid_from, valid_to) for every document of the
upload. A document's own metadata (sidecar, Markdown front matter) and the form must agree; what
neither gives, the form's value fills, and a document declared by nobody is **internal** (an internal
rulebook uploaded without a word must never reach the customer widget). The resolved values are written
into each document's sidecar, so the knowledge base reads uploads by the same rule as the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from gridkb.errors import InvalidUploadError, SourceError
from gridkb.production.encoding import decode_text
from gridkb.production.loaders import MARKDOWN_SUFFIXES, SUPPORTED_SUFFIXES, is_supported
from gridkb.production.meta import SIDECAR_SUFFIX, parse_sidecar, split_front_matter
from gridkb.records import Audience, DocumentMeta

_EXPLICIT = ("audience", "valid_from", "valid_to")  # what the upload form can set for every document
_FORM_LABELS = {"audience": "受众", "valid_from": "生效日期", "valid_to": "失效日期"}


@dataclass(frozen=True)
class UploadedFile:
    name: str  # as the client sent it; only the last path component is used
    data: bytes


@dataclass(frozen=True)
class UploadMeta:
    """The upload form: values for every document that does not declare its own."""

    audience: Audience | None = None
    valid_from: date | None = None
    valid_to: date | None = None

    def __post_init__(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise InvalidUploadError(f"失效日期 {self.valid_to} 早于生效日期 {self.valid_from}")


def save_upload(files: Sequence[UploadedFile], form: UploadMeta, folder: Path) -> list[str]:
    """Check an upload and write it into ``folder`` (created), every document with a sidecar that
    states its audience and dates; returns the documents' names. Raises InvalidUploadError, writing nothing."""
    documents, sidecars = _sort_files(files)
    resolved = {name: _resolve(name, data, sidecars.get(name), form) for name, data in documents.items()}
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in documents.items():
        (folder / name).write_bytes(data)
        (folder / (name + SIDECAR_SUFFIX)).write_text(
            yaml.safe_dump(resolved[name], allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return list(documents)


def _sort_files(files: Sequence[UploadedFile]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(documents, sidecars by their document's name); refuses names, formats and orphan sidecars."""
    documents: dict[str, bytes] = {}
    sidecars: dict[str, bytes] = {}
    supported = "、".join(sorted(SUPPORTED_SUFFIXES)) + f"，以及文档旁的 <文件名>{SIDECAR_SUFFIX}"
    seen: set[str] = set()
    for upload in files:
        name = Path(upload.name.replace("\\", "/")).name
        if not name or name.startswith("."):
            raise InvalidUploadError(f"文件名无效：{upload.name or '(无文件名)'}")
        if name in seen:
            raise InvalidUploadError(f"文件名重复：{name}")
        seen.add(name)
        if name.lower().endswith(SIDECAR_SUFFIX):
            sidecars[name[: -len(SIDECAR_SUFFIX)]] = upload.data
        elif is_supported(name):
            documents[name] = upload.data
        else:
            raise InvalidUploadError(f"不支持的文件：{name}（支持 {supported}）")
    if not documents:
        raise InvalidUploadError("请至少上传一个文档（元数据文件须与其文档一起上传）")
    for target in sidecars:
        if target not in documents:
            raise InvalidUploadError(f"{target}{SIDECAR_SUFFIX} 没有对应的文档：请与 {target} 一起上传")
    return documents, sidecars


def _resolve(name: str, data: bytes, sidecar: bytes | None, form: UploadMeta) -> dict[str, Any]:
    """The metadata written beside ``name``: its own declarations, the form's values where it has
    none, internal when nobody said; conflicting declarations are refused."""
    own_sidecar = _sidecar(name, sidecar)
    declared = {**_front_matter(name, data), **own_sidecar}
    for key in _EXPLICIT:
        own, given = _text(declared.get(key)), _text(getattr(form, key))
        if own and given and own != given:
            raise InvalidUploadError(f"{name}：表单的{_FORM_LABELS[key]}为 {given}，文档元数据写的是 {own}；请统一后重新上传")
        declared[key] = own or given
    declared["audience"] = declared["audience"] or Audience.INTERNAL.value
    try:
        meta = DocumentMeta(audience=declared["audience"], valid_from=declared["valid_from"], valid_to=declared["valid_to"])
    except ValueError as error:
        raise InvalidUploadError(f"{name}：元数据无效（{error}；audience 为 public 或 internal，日期为 YYYY-MM-DD）") from None
    if meta.valid_from and meta.valid_to and meta.valid_to < meta.valid_from:
        raise InvalidUploadError(f"{name}：失效日期 {meta.valid_to} 早于生效日期 {meta.valid_from}")
    explicit = {k: declared[k] for k in _EXPLICIT if declared[k] is not None}
    return {**{k: _text(v) if k in _EXPLICIT else v for k, v in own_sidecar.items()}, **explicit}


def _sidecar(name: str, data: bytes | None) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        return parse_sidecar(data.decode("utf-8"), name + SIDECAR_SUFFIX)
    except UnicodeDecodeError:
        raise InvalidUploadError(f"{name}{SIDECAR_SUFFIX}：须为 UTF-8 编码的 YAML") from None
    except SourceError as error:
        raise InvalidUploadError(str(error)) from None


def _front_matter(name: str, data: bytes) -> dict[str, Any]:
    """A Markdown document's front matter: it declares the audience as much as a sidecar does."""
    if Path(name).suffix.lower() not in MARKDOWN_SUFFIXES:
        return {}
    try:
        return split_front_matter(decode_text(data, name), name)[0]
    except SourceError as error:  # undecodable text is reported by ingestion; bad front matter here
        if "metadata" in error.reason:
            raise InvalidUploadError(str(error)) from None
        return {}


def _text(value: object) -> str | None:
    """A metadata value as the text it is compared and stored as (a YAML date becomes YYYY-MM-DD)."""
    if value is None or value == "":
        return None
    if isinstance(value, Audience):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
