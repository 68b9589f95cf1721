"""pypdf's content-stream parser with fast paths for the common tokens.

pypdf parses a page's content stream (the operators that place and show text) byte by byte in
Python: on the real PDFs of ../shared/documents that is ~70 % of its text extraction. `parse`
follows the same grammar with regular expressions over the whole stream. Operators, numbers,
names, plain literal strings, hex strings and arrays of these take fast paths; any other operand
(a dictionary, a string with escapes, a name with #-escapes, a comment inside an array) is read
by pypdf's own `read_object` at that position. A stream with an inline image or anything the
fast paths cannot follow, and any error, goes to pypdf's parser from the start, so the result
and the limits (pypdf's parsing budget) are pypdf's own; tests compare both parsers' operations
on every page of the bundled and the shared PDFs.

`install()` replaces `ContentStream._parse_content_stream` (pypdf >= 7, private) with `parse`;
like `png_predictor`, it installs nothing when pypdf has no such method.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from io import BytesIO
from typing import Any

from pypdf import _configuration
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    FloatObject,
    NameObject,
    NumberObject,
    create_string_object,
    read_object,
)
from pypdf.generic._utils import StreamParsingBudget

_Parser = Callable[[ContentStream, Any], None]

# One scan over the stream, a token per match (with the whitespace before it); a token that no
# group describes ("other") is read by pypdf.
_TOKENS = re.compile(
    rb"""
    [\x00\t\n\x0c\r\ ]*                           # pypdf's WHITESPACES
    (?:
     (?P<number>[+,\-.0-9]+)                       # NumberObject.NumberPattern's complement
    |(?P<op>[A-Za-z'"][^\s()<>\[\]{}/%]*)         # up to NameObject.delimiter_pattern
    |(?P<name>/[^\s()<>\[\]{}/%\#]*+)(?![\#])     # a name without #-escapes
    |\((?P<literal>[^()\\]*)\)                     # a string without escapes or nesting
    |<(?P<hex>[0-9A-Fa-f]*)>                        # a hex string without whitespace
    |(?P<open>\[)
    |(?P<close>\])
    |(?P<comment>%[^\r\n]*[\r\n]?)
    |(?P<other>[\s\S])
    )
    """,
    re.VERBOSE,
)
_WHITESPACE = b"\x00\t\n\x0c\r "
_LONGEST_OPERATOR = 100  # pypdf refuses operators of ~128 bytes (read in 16-byte chunks)
_LONGEST_NAME = 1000  # pypdf refuses names of ~4 kB
_NUMBER_PEEK = 20  # pypdf reads numbers of 20 bytes or more another way


class _Unhandled(Exception):
    """Something the fast paths do not follow: pypdf parses the whole stream."""


def install() -> None:
    """Route content-stream parsing through `parse` (nothing when pypdf has no such method, or
    `parse` is installed already); pypdf's own parser stays reachable as `__wrapped__`."""
    original = getattr(ContentStream, "_parse_content_stream", None)
    if original is None or getattr(original, "_regiostrat_fast", False):
        return

    def fast(self: ContentStream, stream: Any) -> None:
        parse(self, stream, original)

    fast._regiostrat_fast = True  # type: ignore[attr-defined]
    fast.__wrapped__ = original  # type: ignore[attr-defined]
    ContentStream._parse_content_stream = fast  # type: ignore[method-assign]


def parse(content: ContentStream, stream: Any, original: _Parser) -> None:
    """Append the operations of `stream` (a BytesIO, as pypdf passes it) to `content`."""
    start = len(content._operations)
    if isinstance(stream, BytesIO):
        try:
            content._operations.extend(_operations(stream, content.forced_encoding))
            return
        except Exception:  # noqa: BLE001 - pypdf's parser decides (and raises its own error)
            del content._operations[start:]
    stream.seek(0, 0)
    original(content, stream)


def _operations(stream: BytesIO, encoding: Any) -> list[tuple[Any, bytes]]:
    data = stream.getvalue()
    end = len(data.rstrip(_WHITESPACE))
    configuration = _configuration.get_configuration()
    budget = configuration.stream_parsing_work_maximum_count
    array_limit = configuration.array_maximum_element_count
    spent = 0  # tokens, as pypdf counts them against its budget
    result: list[tuple[Any, bytes]] = []
    operands: list[Any] = []
    arrays: list[ArrayObject] = []  # the open arrays, innermost last
    position = 0
    while True:
        for token in _TOKENS.finditer(data, position, end):
            kind = token.lastgroup
            if kind == "op":
                operator = token.group(kind)
                if arrays or operator == b"BI" or len(operator) >= _LONGEST_OPERATOR:
                    raise _Unhandled  # a keyword in an array, an inline image, a long operator
                if operator[:1] == b"R" and not operator[1:2].isalpha():
                    raise _Unhandled  # "1 0 R": pypdf reads an indirect reference
                spent += 1
                result.append((operands, operator))
                operands = []
                continue
            if kind == "comment":
                if arrays:
                    raise _Unhandled
                continue
            if kind == "close":
                if not arrays:
                    raise _Unhandled
                value: Any = arrays.pop()
            else:
                spent += 1  # an operand, or an element of an array
                if arrays and len(arrays[-1]) >= array_limit:
                    raise _Unhandled
                if kind == "number":
                    number = token.group(kind)
                    if len(number) >= _NUMBER_PEEK:
                        raise _Unhandled
                    value = _number(number)
                elif kind == "name":
                    name = token.group(kind)
                    if len(name) >= _LONGEST_NAME or not name.isascii():
                        raise _Unhandled
                    value = NameObject(name.decode())
                elif kind == "literal":
                    value = create_string_object(token.group(kind), encoding)
                elif kind == "hex":
                    digits = token.group(kind)
                    if len(digits) % 2:
                        digits += b"0"
                    value = create_string_object(bytes.fromhex(digits.decode()), encoding)
                elif kind == "open":
                    arrays.append(ArrayObject())
                    continue
                else:  # pypdf reads the object here; the scan goes on after it
                    stream.seek(token.start("other"))
                    left = StreamParsingBudget(remaining_budget=budget - spent)
                    value = read_object(stream, None, encoding, parsing_budget=left)
                    spent = budget - left.remaining_budget
                    position = stream.tell()
                    (arrays[-1] if arrays else operands).append(value)
                    break
            (arrays[-1] if arrays else operands).append(value)
        else:
            if arrays or spent > budget:
                raise _Unhandled  # an array left open at the end, or pypdf's budget spent
            return result
        if spent > budget:
            raise _Unhandled


def _number(token: bytes) -> FloatObject | NumberObject:
    """pypdf's number object of a token (its constructors, minus their Python overhead for
    well-formed numbers; a malformed one gets pypdf's warning and 0)."""
    try:
        if b"." in token:
            return float.__new__(FloatObject, float(token))
        return int.__new__(NumberObject, int(token))
    except ValueError:
        return FloatObject(token) if b"." in token else NumberObject(token)
