"""The catalogues against the code: every id the code uses is in both languages, Chinese translates it and keeps
its {fields}, and every id is a literal the extractor can read."""

import ast

import pytest

from core.i18n import extract
from core.i18n.message import fields


def test_every_message_id_is_in_both_languages_and_translated_in_chinese():
    assert extract.problems() == []


def test_each_translation_keeps_the_fields_and_their_formats():
    broken = [f"{msgid!r} → {text!r}" for msgid, text in extract.catalogue("zh").items() if text and fields(msgid) != fields(text)]
    assert broken == []


def test_a_message_id_is_always_a_plain_string_literal():
    """An f-string or a built string as the id cannot be in a catalogue: it would be shown in English in every
    language. Only _() may take a name (an id marked with N_ where it was defined, in a table of labels)."""
    bad = []
    for path in extract.source_files():
        if path.parent.name == "i18n":
            continue  # the machinery itself passes ids along
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None) and getattr(node.func, "id", getattr(node.func, "attr", None))
            if isinstance(node, ast.Call) and name in extract.KEYWORDS:
                first = node.args[0] if node.args else None
                literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
                looked_up = name == "_" and isinstance(first, (ast.Name, ast.Attribute, ast.Subscript))
                if not (literal or looked_up):
                    bad.append(f"{path.relative_to(extract.ROOT)}:{node.lineno}")
    assert bad == []


@pytest.mark.parametrize("text", ["{a}", "{a:,} and {b:.3g}", "no fields"])
def test_fields_reads_names_and_formats(text):
    assert fields(text) == sorted((n, s) for n, s in {"{a}": [("a", "")], "{a:,} and {b:.3g}": [("a", ","), ("b", ".3g")]}.get(text, []))


def test_nothing_hides_the_translation_function_behind_a_throwaway_variable():
    """`per, _ = …` in a function of a module that imports _ makes _ a local: a later _("…") in that function
    calls the throwaway (found twice while translating). Comprehensions have their own scope and may use it."""
    own_scope = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda, ast.FunctionDef, ast.ClassDef)

    def stores(node: ast.AST):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Name) and child.id == "_" and isinstance(child.ctx, ast.Store):
                yield child.lineno
            if not isinstance(child, own_scope):
                yield from stores(child)

    bad = []
    for path in extract.source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.ImportFrom) and n.module == "core.i18n" and any(a.name == "_" for a in n.names) for n in tree.body):
            scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
            bad += [f"{path.relative_to(extract.ROOT)}:{line}" for scope in scopes for line in stores(scope)]
    assert bad == []
