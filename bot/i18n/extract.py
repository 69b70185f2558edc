"""Babel extraction method for KorteLijn's sentences (``pybabel extract -F pyproject.toml``).

The code names each sentence by a symbolic key; the catalogues hold the words. Found in the code:

- ``i18n.t(lang, "ack.done", number=3)`` and a handler's ``req.t("ack.done")`` (there the
  language is bound already, so the key is the first argument rather than the second);
- ``i18n.tn(lang, "cases.line", n, ...)``: a sentence with plural forms (one symbolic id stands
  for both the singular and the plural id);
- ``N_("norm.N1")``: a key the code composes at run time, listed so that extraction keeps it
  (most are in ``bot/i18n/keys.py``);
- ``key = "error.unknown_case"`` (or ``usage_key = ...``, any name ending in ``key``): an
  error class names the sentence that explains it this way, and so does code that picks a key
  before it renders it.

A key may be written as ``"a" if cond else "b"``: both are found. The keyword specifications
(``t:2``, ``tn:2,3``, ``N_``) are in pyproject.toml; this method shapes each call's arguments to
them.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

#: the keyword functions whose key follows the language argument
_KEYED = ("t", "tn")

Found = tuple[int, str, tuple[str | None, ...], list[str]]


def extract(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str],
            options: Mapping[str, Any]) -> Iterator[Found]:
    tree = ast.parse(fileobj.read(), filename=getattr(fileobj, "name", "<catalogue>"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from _from_call(node, keywords)
        elif (isinstance(node, ast.Assign) and "N_" in keywords and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)
              and (node.targets[0].id == "key" or node.targets[0].id.endswith("_key"))):
            for key in _literals(node.value):
                yield node.lineno, "N_", (key,), []


def _from_call(node: ast.Call, keywords: Mapping[str, Any]) -> Iterator[Found]:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else None)
    if name is None or name not in keywords or not node.args:
        return
    if name in _KEYED:
        bound = bool(_literals(node.args[0]))   # req.t("key"): no language argument
        at = 0 if bound else 1
        if len(node.args) <= at:
            return
        for key in _literals(node.args[at]):
            yield node.lineno, name, (None, key, key) if name == "tn" else (None, key), []
    else:
        for key in _literals(node.args[0]):
            yield node.lineno, name, (key,), []


def _literals(node: ast.expr) -> list[str]:
    """The keys an argument can be: a string, or either branch of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        return body + orelse if body and orelse else []
    return []
