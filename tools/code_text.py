"""The text for people inside a code cell: what `make sync` translates, and how it puts translations back.

The rule (CONTRIBUTING.md, "Translating code cells"):

* every **comment** (``# ...``), one message per comment line;
* every **string literal given to** ``print()``: directly, or through ``+``, ``%``, ``"...".format(...)``,
  ``"...".join(...)``, ``a if c else b``, ``a or b``, or ``pad(text, width)``; an f-string is one
  message with its ``{...}`` fields, which a translation must keep exactly (it may move them);

and of those only the ones with a word of two or more letters (``# [T, K, 1]``, ``"·"`` stay as they are).
Nothing else is touched: identifiers, dictionary keys, arguments of other calls, format specs. A name a
learner reads in a plot or a table comes from the package (``plot_text``, ``method_name``).

This module knows nothing about catalogs: it finds the messages of one cell (``messages``), builds a cell
from translations (``translate``), and reduces a cell to its program (``skeleton``), which is what must be
equal in every language.
"""

from __future__ import annotations

import ast
import io
import re
import string
import tokenize
import unicodedata
from collections import Counter
from dataclasses import dataclass

from reptile_edu.i18n import display_width as width

LINE_LENGTH = 120  # ruff's line-length (pyproject.toml): a translated line longer than this is re-wrapped
WORD = re.compile(r"[A-Za-z]{2,}")
DIRECTIVE = re.compile(r"^\s*(noqa|type:|NBVAL_|fmt:|ruff:|pragma)")
TEXT_CALLS = ("print",)  # a literal reaching one of these (by the paths below) is text for people
PASS_THROUGH_CALLS = ("pad",)  # pad(text, width, ...): its first argument stays text
PASS_THROUGH_METHODS = ("join", "format")  # "sep".join(texts), "text {}".format(...)


class CodeTextError(ValueError):
    """A code cell the rule cannot handle (it says what to change)."""


@dataclass(frozen=True)
class Piece:
    """One string-literal token: ``prefix quote body quote`` at ``start:end`` of the cell source."""

    start: int
    end: int
    prefix: str
    quote: str
    body: str


@dataclass(frozen=True)
class Message:
    """One translatable text of a cell: a comment line or a (possibly implicitly concatenated) literal."""

    kind: str  # "comment", "string" or "f-string"
    text: str  # the msgid: a comment's text, or a literal's body as written in the source (escapes kept)
    start: int  # span in the cell source: the comment from "#", or the literal from its first prefix
    end: int
    pieces: tuple[Piece, ...] = ()
    comment_prefix: str = "# "

    @property
    def is_text(self) -> bool:
        """Whether it has a word to translate (math and shapes such as ``[T, K, 1]`` do not)."""
        return bool(WORD.search(_outside_fields(self.text) if self.kind != "comment" else self.text))


# ---------------------------------------------------------------------------------------------- finding


def _char_offsets(source: str) -> list[int]:
    starts, pos = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    starts.append(pos)
    return starts


def _offset(source: str, starts: list[int], lineno: int, col_bytes: int) -> int:
    line_start = starts[lineno - 1]
    line = source[line_start : starts[lineno] if lineno < len(starts) else len(source)]
    return line_start + len(line.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))


def _text_literals(tree: ast.AST) -> list[ast.expr]:
    """The literal nodes that are text for people (see the module docstring), in source order."""
    found: list[ast.expr] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) or isinstance(node, ast.JoinedStr):
            found.append(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, ast.IfExp):
            walk(node.body)
            walk(node.orelse)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                walk(value)
        elif isinstance(node, (ast.GeneratorExp, ast.ListComp)):
            walk(node.elt)
        elif isinstance(node, ast.Starred):
            walk(node.value)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in PASS_THROUGH_CALLS and node.args:
                walk(node.args[0])
            elif isinstance(node.func, ast.Attribute) and node.func.attr in PASS_THROUGH_METHODS:
                walk(node.func.value)
                if node.func.attr == "join" and node.args:
                    walk(node.args[0])

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TEXT_CALLS:
            for arg in node.args:
                walk(arg)
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


_PREFIX = re.compile(r"[rRbBuUfF]{0,2}")


def _scan_pieces(source: str, start: int, end: int) -> list[Piece]:
    """Split the source of one literal node (implicit concatenation included) into its string tokens."""
    pieces, i = [], start
    while i < end:
        ch = source[i]
        if ch in " \t\r\n\\":
            i += 1
            continue
        if ch == "#":
            raise CodeTextError("a comment between the pieces of a string; move it above the line")
        prefix = _PREFIX.match(source, i).group()
        j = i + len(prefix)
        quote = source[j : j + 3] if source[j : j + 3] in ('"""', "'''") else source[j]
        if quote not in ('"', "'", '"""', "'''"):
            raise CodeTextError(f"cannot read the string literal at {source[i:i + 20]!r}")
        k, depth, is_f = j + len(quote), 0, "f" in prefix.lower()
        while True:
            if k >= end:
                raise CodeTextError(f"unterminated string literal at {source[i:i + 20]!r}")
            c = source[k]
            if c == "\\":
                k += 2
                continue
            if is_f and c == "{":
                if depth == 0 and source[k + 1 : k + 2] == "{":
                    k += 2
                    continue
                depth += 1
            elif is_f and c == "}" and depth:
                depth -= 1
            elif depth and c in "'\"":  # a string inside a replacement field (allowed from Python 3.12)
                k = source.index(c, k + 1) + 1
                continue
            elif depth == 0 and source.startswith(quote, k):
                break
            k += 1
        pieces.append(Piece(i, k + len(quote), prefix, quote, source[j + len(quote) : k]))
        i = k + len(quote)
    return pieces


def messages(source: str) -> list[Message]:
    """Every comment and text literal of a code cell, in source order (``is_text`` says which to translate)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise CodeTextError(f"not valid Python (line {err.lineno}): {err.msg}") from None
    starts = _char_offsets(source)
    found: list[Message] = []
    for node in _text_literals(tree):
        a = _offset(source, starts, node.lineno, node.col_offset)
        b = _offset(source, starts, node.end_lineno, node.end_col_offset)
        pieces = _scan_pieces(source, a, b)
        kinds = {"f" in p.prefix.lower() for p in pieces}
        if len(kinds) > 1:
            raise CodeTextError(f"f-strings and plain strings in one literal: {source[a:b]!r}; make every piece f")
        if any("b" in p.prefix.lower() for p in pieces):
            continue
        kind = "f-string" if kinds == {True} else "string"
        found.append(Message(kind, "".join(p.body for p in pieces), a, b, tuple(pieces)))
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            text = tok.string[1:]
            if DIRECTIVE.match(text):
                continue
            stripped = text.lstrip()
            a = starts[tok.start[0] - 1] + tok.start[1]
            found.append(Message("comment", stripped.rstrip(), a, a + len(tok.string),
                                 comment_prefix="#" + text[: len(text) - len(stripped)]))
    return sorted(found, key=lambda m: m.start)


# ------------------------------------------------------------------------------------------- fields


def _outside_fields(text: str) -> str:
    """The text without its ``{...}`` replacement fields (what a reader sees around the numbers)."""
    out, depth, i = [], 0, 0
    while i < len(text):
        c = text[i]
        if c in "{}" and text[i : i + 2] in ("{{", "}}") and depth == 0:
            out.append(c)
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
        i += 1
    return "".join(out)


def _spec(node: ast.expr | None) -> str:
    if node is None:
        return ""
    parts = []
    for v in node.values:
        parts.append(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}")
    return "".join(parts)


def fields(text: str) -> Counter:
    """The ``str.format`` fields and ``%`` conversions of a plain string, counted."""
    found: Counter = Counter(re.findall(r"%(?:\([^)]*\))?[-#0+]*\d*(?:\.\d+)?[sdifgeExXr]", text))
    try:
        found.update((name, conv, spec) for _, name, spec, conv in string.Formatter().parse(text) if name is not None)
    except ValueError:
        pass
    return found


def f_fields(text: str) -> Counter:
    """The replacement fields of an f-string body as (expression, conversion, format spec), counted,
    as Python's own parser reads them."""
    for quote in ('"', "'", '"""'):
        try:
            tree = ast.parse("f" + quote + text + quote)
        except SyntaxError:
            continue
        return Counter(
            (ast.unparse(v.value), v.conversion, _spec(v.format_spec))
            for v in tree.body[0].value.values
            if isinstance(v, ast.FormattedValue)
        )
    raise CodeTextError(f"not a valid f-string body: {text!r}")


def placeholder_problem(kind: str, original: str, translation: str) -> str | None:
    """Why ``translation`` cannot stand for ``original`` (a field lost, added or changed), or ``None``."""
    if kind == "comment":
        return None
    try:
        want = f_fields(original) if kind == "f-string" else fields(original)
        got = f_fields(translation) if kind == "f-string" else fields(translation)
    except CodeTextError as err:
        return str(err)
    if want != got:
        lost = ", ".join(_show(f) for f in (want - got).elements())
        extra = ", ".join(_show(f) for f in (got - want).elements())
        return "placeholders differ" + (f"; missing {lost}" if lost else "") + (f"; added {extra}" if extra else "")
    return None


def _show(field) -> str:
    if isinstance(field, str):
        return field
    expr, conv, spec = field
    conversion = f"!{chr(conv)}" if isinstance(conv, int) and conv > 0 else ""
    return "{" + expr + conversion + (f":{spec}" if spec else "") + "}"


# ------------------------------------------------------------------------------------------ rebuilding


def _wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in "WF"


def _break_points(text: str, braces: bool) -> list[int]:
    """Where a text may be split into pieces: after a space, or between two wide (CJK) characters;
    never inside a ``{...}`` field or right after a backslash."""
    points, depth = [], 0
    for i, c in enumerate(text[:-1]):
        if braces and c == "{":
            depth += 1
        elif braces and c == "}" and depth:
            depth -= 1
        if depth or c == "\\" or (i and text[i - 1] == "\\"):
            continue
        nxt = text[i + 1]
        if (c == " " and nxt != " ") or (_wide(c) and _wide(nxt)) or (_wide(c) and nxt == " "):
            points.append(i + 1)
    return points


def split_text(text: str, limits: list[int], braces: bool) -> list[str]:
    """Split ``text`` greedily into lines, the i-th at most ``limits[min(i, -1)]`` columns wide."""
    points = _break_points(text, braces)
    lines, start = [], 0
    while width(text[start:]) > limits[min(len(lines), len(limits) - 1)]:
        limit = limits[min(len(lines), len(limits) - 1)]
        fits = [p for p in points if p > start and width(text[start:p]) <= limit]
        if not fits:
            later = [p for p in points if p > start]
            if not later:
                break
            fits = [later[0]]
        lines.append(text[start : fits[-1]])
        start = fits[-1]
    lines.append(text[start:])
    return lines


def _balanced(text: str, n: int, braces: bool) -> list[str]:
    """Split ``text`` into at most ``n`` pieces of about equal width (the layout of the English source)."""
    if n <= 1:
        return [text]
    total = width(text)
    for target in range(max(1, -(-total // n)), total + 1):
        parts = split_text(text, [target], braces)
        if len(parts) <= n:
            return parts
    return [text]


def _line_of(source: str, pos: int) -> tuple[int, int]:
    a = source.rfind("\n", 0, pos) + 1
    b = source.find("\n", pos)
    return a, len(source) if b < 0 else b


def translate(source: str, translations: dict[str, str], line_length: int = LINE_LENGTH) -> str:
    """The cell with every text message replaced by ``translations[msgid]`` (missing ones stay English).

    A literal keeps its prefix and quotes; one written in several pieces is split again into about as
    many (at spaces, or between CJK characters), and into more when a line would grow longer than
    ``line_length``. A trailing comment that would make its line too long moves onto its own line
    above the code; a comment line too long is wrapped.
    """
    while True:
        try:
            result = _translate_once(source, translations, line_length)
            break
        except _MoveAbove as move:  # retry with that comment on its own line
            a, b = _line_of(source, move.start)
            indent = re.match(r"[ \t]*", source[a:]).group()
            code = source[a : move.start].rstrip()
            source = source[:a] + indent + source[move.start : move.end] + "\n" + code + source[b:]
    try:
        ast.parse(result)
    except SyntaxError as err:
        bad = (result.splitlines()[err.lineno - 1] if err.lineno else "").strip()
        raise CodeTextError(f"a translation breaks the code (line {err.lineno}: {bad!r}): {err.msg}") from None
    return result


class _MoveAbove(Exception):
    def __init__(self, start: int, end: int):
        self.start, self.end = start, end


def _translate_once(source: str, translations: dict[str, str], line_length: int) -> str:
    out, last = [], 0
    for m in messages(source):
        if not (m.is_text and translations.get(m.text)):
            continue
        out.append(source[last : m.start])
        built = "".join(out)
        before = built[built.rfind("\n") + 1 :]  # this line as built so far
        if m.kind == "comment":
            out.append(_comment(m, translations[m.text], before, line_length))
        else:
            out.append(_literal(source, m, translations[m.text], before, line_length))
        last = m.end
    out.append(source[last:])
    return "".join(out)


def _comment(m: Message, new: str, before: str, line_length: int) -> str:
    if before.strip():  # a comment beside code
        if width(before) + width(m.comment_prefix + new) > line_length:
            raise _MoveAbove(m.start, m.end)
        return m.comment_prefix + new
    lines = split_text(new, [line_length - width(before) - width(m.comment_prefix)], braces=False)
    return ("\n" + before).join(m.comment_prefix + line.rstrip() for line in lines)


def _literal(source: str, m: Message, new: str, before: str, line_length: int) -> str:
    first = m.pieces[0]
    opener, closer = first.prefix + first.quote, first.quote
    extra = width(opener) + width(closer)
    head = width(before)
    if len(m.pieces) > 1:
        sep = source[m.pieces[0].end : m.pieces[1].start]
    else:
        sep = "\n" + " " * head
    col = width(sep.rsplit("\n", 1)[-1]) if "\n" in sep else head
    braces = m.kind == "f-string"
    parts = _balanced(new, len(m.pieces), braces)
    limits = [line_length - head - extra, line_length - col - extra]
    if "\n" in sep and any(width(p) > limits[min(i, 1)] for i, p in enumerate(parts)):
        parts = split_text(new, limits, braces)
    return sep.join(opener + p + closer for p in parts)


# ------------------------------------------------------------------------------------------ skeleton


def skeleton(source: str) -> list[tuple[int, str]]:
    """The cell as a program: its tokens without comments and with every text literal (as found by the
    rule, with or without words) replaced by one placeholder. Equal in every language."""
    msgs = messages(source)
    out, last = [], 0
    for m in msgs:
        out.append(source[last : m.start])
        out.append("" if m.kind == "comment" else '"…"')
        last = m.end
    out.append(source[last:])
    blank = "".join(out)
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(blank).readline) if t.type not in skip]
