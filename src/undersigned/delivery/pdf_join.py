"""Joining PDF files into one, file by file, keeping what makes them accessible.

Pure: paths in, one PDF written to a binary stream out; no database, no Django.
Used by bulk prints (``print_render``) and hand-in packs (``openletters.handin``), whose
parts are typst compiles of at most a few hundred pages each.

Why not a library's writer: pypdf's ``PdfWriter`` keeps every page of every part in
memory until it writes (two to three times this join's peak, see docs/performance.md)
and drops each part's tag structure, so the joined file is no longer tagged; pikepdf
(qpdf) can be made to carry the structure across but held nearly three times more
again. No maintained library merges structure trees. So this module streams:
pypdf reads each part and serialises its objects, and they are written out as soon as
they are renumbered (small ones compressed together in object streams); only a few
numbers per object and per page stay in memory until the end.

What a reader with a screen reader needs survives the join:

- the tags: each part's ``/Document`` structure element is dissolved into one
  ``/Document`` of the joined file, in order; each page's ``/StructParents`` key (and an
  annotation's ``/StructParent``) is shifted past the keys of the parts before it, and
  the parent tree is rebuilt from the parts' entries with the same shift;
- ``/MarkInfo << /Marked true >>``, the document language (``/Lang``, from the first
  part; a part in another language carries its own on its elements), and the title
  (``/Title`` in the document information and in the XMP metadata, shown by viewers
  because of ``/DisplayDocTitle``).

Fonts are not shared between parts, as in any join. If one part is untagged, the joined
file does not claim to be tagged.
"""

from __future__ import annotations

import io
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast
from xml.sax.saxutils import escape

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

# The joined file's own objects, written last; every copied object is numbered after them.
_PAGES_ROOT = 1
_CATALOG = 2
_STRUCT_ROOT = 3
_DOCUMENT = 4  # the one /Document structure element the parts' elements hang from
_INFO = 5
_METADATA = 6
_FIRST_COPIED = 7

# Objects per object stream: big enough to compress well, small enough to keep little
# in memory and to let a reader find one object fast.
_OBJECTS_PER_STREAM = 200

# Entries per leaf of the rebuilt parent tree: a number tree may hold any number in one
# array, but some readers handle long arrays badly; a two-level tree is cheap.
_PARENT_TREE_LEAF = 512


class _CountingWriter:
    """Writes to a binary stream and knows how many bytes it wrote (for the cross-reference
    stream), so the output need not be seekable."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.position = 0

    def write(self, data: bytes | memoryview) -> int:
        self.out.write(data)
        self.position += len(data)
        return len(data)


@dataclass
class _Joined:
    """What the joined file keeps in memory until its end: numbers, never page content."""

    # By object number: where the object is. An offset in the file (0: never written),
    # or, below zero, its place in an object stream (``_packed_location``).
    offsets: list[int] = field(default_factory=lambda: [0] * _FIRST_COPIED)
    packing: list[tuple[int, bytes]] = field(default_factory=list)  # (number, body) for the next object stream
    pages: list[int] = field(default_factory=list)
    # Kept as bytes, as they will be written: a PdfObject per element would cost tens of
    # MB for 10,000 letters, held while typst renders the next chunk.
    document_kids: bytearray = field(default_factory=bytearray)  # "12 0 R 13 0 R …"
    parent_tree: list[tuple[int, bytes]] = field(default_factory=list)  # (key, value) in key order
    next_key: int = 0  # the parent tree's next free key
    role_map: DictionaryObject = field(default_factory=DictionaryObject)
    tagged: bool = True
    lang: str | None = None
    title: str | None = None
    info: DictionaryObject = field(default_factory=DictionaryObject)
    direction: PdfObject | None = None


class Joiner:
    """Joins PDF files into ``out`` one at a time: ``add`` each, in order, then ``close``.

    Holds one file's objects at a time. Not thread-safe, but one thread may add while
    another renders the next file (``print_render`` does: typst releases the GIL).
    """

    def __init__(self, out: BinaryIO, *, title: str | None = None) -> None:
        self._writer = _CountingWriter(out)
        # The binary comment line tells transfer programs the file is binary (PDF 1.7, 7.5.2).
        self._writer.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self._joined = _Joined(title=title)
        self._first = True

    def add(self, path: Path) -> None:
        _copy_part(PdfReader(path), path.name, self._writer, self._joined, first=self._first)
        self._first = False

    def close(self) -> int:
        """Write what ties the parts together; return the page count."""
        _finish(self._writer, self._joined)
        return len(self._joined.pages)


def join_pdfs(
    parts: Iterable[Path],
    out: BinaryIO,
    *,
    title: str | None = None,
    on_part: Callable[[], None] | None = None,
) -> int:
    """Join PDF files into one, in order; return the page count.

    ``title`` names the joined document (default: the first part's title). ``on_part``
    is called after each file is copied.
    """
    joiner = Joiner(out, title=title)
    for path in parts:
        joiner.add(path)
        if on_part is not None:
            on_part()
    return joiner.close()


class _Renumbering:
    """A part's object numbers to the joined file's; a newly seen object joins the queue to copy."""

    def __init__(self, joined: _Joined) -> None:
        self.joined = joined
        self.numbers: dict[int, int] = {}
        self.queue: deque[int] = deque()

    def __call__(self, reference: IndirectObject) -> int:
        if reference.idnum not in self.numbers:
            self.numbers[reference.idnum] = len(self.joined.offsets)
            self.joined.offsets.append(0)
            self.queue.append(reference.idnum)
        return self.numbers[reference.idnum]


@dataclass
class _Part:
    """How one part's objects change on the way into the joined file."""

    tagged: bool
    key_shift: int = 0  # added to its /StructParents keys
    lang: str | None = None
    own_lang: set[int] = field(default_factory=set)  # elements that get the part's /Lang


def _copy_part(reader: PdfReader, name: str, writer: _CountingWriter, joined: _Joined, *, first: bool) -> None:
    catalog = cast(DictionaryObject, reader.trailer["/Root"].get_object())
    if first:
        _take_document_facts(reader, catalog, joined)
    renumber = _Renumbering(joined)
    part = _adopt_structure(catalog, joined, renumber)
    for page in reader.pages:
        if page.indirect_reference is None:  # only pages made in memory lack one
            raise ValueError(f"{name} has a page that is not an object of its own")
        joined.pages.append(renumber(page.indirect_reference))
    while renumber.queue:
        number = renumber.queue.popleft()
        obj = reader.get_object(number)
        if obj is None:
            raise ValueError(f"{name} refers to object {number}, which it does not have")
        if isinstance(obj, DictionaryObject):
            _adjust(obj, number, part)
        body = io.BytesIO()
        _renumbered(obj, renumber).write_to_stream(body)
        if isinstance(obj, StreamObject):
            _write_object(writer, joined, renumber.numbers[number], body.getbuffer())
        else:
            _pack(writer, joined, renumber.numbers[number], body.getvalue())


def _take_document_facts(reader: PdfReader, catalog: DictionaryObject, joined: _Joined) -> None:
    """The first part's language, information and reading direction become the joined file's."""
    joined.lang = _text(catalog.get("/Lang"))
    info = reader.trailer.get("/Info")
    if info is not None:
        entries = cast(DictionaryObject, info.get_object()).items()
        joined.info = DictionaryObject({NameObject(k): v for k, v in entries if not isinstance(v, IndirectObject)})
    joined.title = joined.title or _text(joined.info.get("/Title"))
    preferences = catalog.get("/ViewerPreferences")
    if preferences is not None:
        joined.direction = cast(DictionaryObject, preferences.get_object()).get("/Direction")


def _adopt_structure(catalog: DictionaryObject, joined: _Joined, renumber: _Renumbering) -> _Part:
    """Hang the part's structure elements under the joined /Document and take its parent tree."""
    reference = _raw(catalog, "/StructTreeRoot")
    if not isinstance(reference, IndirectObject) or not _marked(catalog):
        joined.tagged = False
        return _Part(tagged=False)
    struct = cast(DictionaryObject, reference.get_object())
    part = _Part(tagged=True, key_shift=joined.next_key, lang=_text(catalog.get("/Lang")))
    # The part's root and its /Document element become the joined file's: every element
    # that named them as parent (/P) now names the joined /Document.
    renumber.numbers[reference.idnum] = _DOCUMENT
    for element in _array(_raw(struct, "/K")):
        kids = [element]
        if isinstance(element, IndirectObject):
            target = cast(DictionaryObject, element.get_object())
            if target.get("/S") == "/Document":
                renumber.numbers[element.idnum] = _DOCUMENT
                kids = _array(_raw(target, "/K"))
        for kid in kids:
            if part.lang and part.lang != joined.lang and isinstance(kid, IndirectObject):
                part.own_lang.add(kid.idnum)
            joined.document_kids += _serialised(_renumbered(kid, renumber)) + b" "
    entries = list(_number_tree(struct.get("/ParentTree")))
    joined.parent_tree.extend(
        (part.key_shift + key, _serialised(_renumbered(value, renumber))) for key, value in entries
    )
    # The next part's keys start past this part's: its next free key, or past its last one.
    next_key = struct.get("/ParentTreeNextKey")
    free = max(_int(next_key), max((key for key, _ in entries), default=-1) + 1)
    joined.next_key = part.key_shift + free
    role_map = struct.get("/RoleMap")
    if role_map is not None:
        for role, standard in cast(DictionaryObject, role_map.get_object()).items():
            joined.role_map.setdefault(NameObject(role), standard)
    return part


def _adjust(obj: DictionaryObject, number: int, part: _Part) -> None:
    """What changes in a part's object besides its references."""
    if obj.get("/Type") == "/Page":
        # The page now hangs from the joined file's page tree.
        obj[NameObject("/Parent")] = IndirectObject(_PAGES_ROOT, 0, None)
    for key in ("/StructParents", "/StructParent"):  # a page's, an annotation's or an XObject's
        if key in obj:
            if part.tagged:
                obj[NameObject(key)] = NumberObject(part.key_shift + _int(obj[key]))
            else:  # it pointed into a tag structure that is not there
                del obj[key]
    if number in part.own_lang and part.lang and "/Lang" not in obj:
        obj[NameObject("/Lang")] = TextStringObject(part.lang)


def _finish(writer: _CountingWriter, joined: _Joined) -> None:
    """The page tree, the structure, the catalogue, the metadata and the cross-reference table."""
    _write_object(
        writer,
        joined,
        _PAGES_ROOT,
        b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(joined.pages), _refs(joined.pages)),
    )
    catalog = b"<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R" % (_PAGES_ROOT, _METADATA)
    preferences = b"/DisplayDocTitle true"
    if joined.direction is not None:
        preferences += b" /Direction " + _serialised(joined.direction)
    catalog += b" /ViewerPreferences << " + preferences + b" >>"
    if joined.lang:
        catalog += b" /Lang " + _serialised(TextStringObject(joined.lang))
    if joined.tagged and joined.pages:
        catalog += b" /MarkInfo << /Marked true >> /StructTreeRoot %d 0 R" % _STRUCT_ROOT
        _write_structure(writer, joined)
    _write_object(writer, joined, _CATALOG, catalog + b" >>")
    info = DictionaryObject(joined.info)
    if joined.title:
        info[NameObject("/Title")] = TextStringObject(joined.title)
    _write_object(writer, joined, _INFO, _serialised(info))
    xmp = _xmp(title=joined.title, lang=joined.lang, creator=_text(joined.info.get("/Creator")))
    _write_object(
        writer,
        joined,
        _METADATA,
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream" % (len(xmp), xmp),
    )
    _flush_packing(writer, joined)
    _write_xref_stream(writer, joined)


def _pack(writer: _CountingWriter, joined: _Joined, number: int, body: bytes) -> None:
    """Queue a copied object (not a stream) for an object stream, written when full.

    typst's structure elements are tens of thousands of small dictionaries; written
    one by one in the clear they would double the file (see docs/performance.md).
    Compressed together they cost a few MB.
    """
    joined.packing.append((number, body))
    if len(joined.packing) >= _OBJECTS_PER_STREAM:
        _flush_packing(writer, joined)


def _flush_packing(writer: _CountingWriter, joined: _Joined) -> None:
    if not joined.packing:
        return
    header = io.BytesIO()
    bodies = io.BytesIO()
    for number, body in joined.packing:
        header.write(b"%d %d " % (number, bodies.tell()))
        bodies.write(body)
        bodies.write(b"\n")
    first = header.tell()
    data = zlib.compress(header.getvalue() + bodies.getvalue())
    stream = len(joined.offsets)
    joined.offsets.append(0)
    _write_object(
        writer,
        joined,
        stream,
        b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
        % (len(joined.packing), first, len(data), data),
    )
    for index, (number, _) in enumerate(joined.packing):
        joined.offsets[number] = _packed_location(stream, index)
    joined.packing.clear()


def _packed_location(stream: int, index: int) -> int:
    return -((stream << 16) | index) - 1


def _write_xref_stream(writer: _CountingWriter, joined: _Joined) -> None:
    """The cross-reference stream (PDF 1.5), which can point into object streams, and the trailer."""
    number = len(joined.offsets)
    joined.offsets.append(writer.position)
    rows = io.BytesIO()
    for entry in joined.offsets:
        if entry < 0:  # in an object stream: type 2, the stream's number, the index in it
            location = -entry - 1
            rows.write(b"\x02" + (location >> 16).to_bytes(5) + (location & 0xFFFF).to_bytes(2))
        elif entry:  # at an offset: type 1
            rows.write(b"\x01" + entry.to_bytes(5) + b"\x00\x00")
        else:  # object 0, or a number no object took: free
            rows.write(b"\x00" + bytes(5) + b"\xff\xff")
    data = zlib.compress(rows.getvalue())
    xref = joined.offsets[number]
    writer.write(
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 5 2] /Root %d 0 R /Info %d 0 R /Filter /FlateDecode /Length %d >>"
        b"\nstream\n%s\nendstream\nendobj\n" % (number, len(joined.offsets), _CATALOG, _INFO, len(data), data)
    )
    writer.write(b"startxref\n%d\n%%%%EOF\n" % xref)


def _write_structure(writer: _CountingWriter, joined: _Joined) -> None:
    kids = bytes(joined.document_kids).rstrip()
    _write_object(
        writer, joined, _DOCUMENT, b"<< /Type /StructElem /S /Document /P %d 0 R /K [%s] >>" % (_STRUCT_ROOT, kids)
    )
    # The parent tree as a number tree of two levels: leaves of consecutive keys.
    leaves: list[int] = []
    entries = sorted(joined.parent_tree, key=lambda entry: entry[0])
    for start in range(0, len(entries), _PARENT_TREE_LEAF):
        leaf = entries[start : start + _PARENT_TREE_LEAF]
        nums = b" ".join(b"%d %s" % (key, value) for key, value in leaf)
        number = len(joined.offsets)
        joined.offsets.append(0)
        _write_object(writer, joined, number, b"<< /Limits [%d %d] /Nums [%s] >>" % (leaf[0][0], leaf[-1][0], nums))
        leaves.append(number)
    parent_tree = b"<< /Kids [%s] >>" % _refs(leaves) if leaves else b"<< /Nums [] >>"
    structure = b"<< /Type /StructTreeRoot /K [%d 0 R] /ParentTree %s /ParentTreeNextKey %d" % (
        _DOCUMENT,
        parent_tree,
        joined.next_key,
    )
    if joined.role_map:
        structure += b" /RoleMap " + _serialised(joined.role_map)
    _write_object(writer, joined, _STRUCT_ROOT, structure + b" >>")


def _write_object(writer: _CountingWriter, joined: _Joined, number: int, body: bytes | memoryview) -> None:
    joined.offsets[number] = writer.position
    writer.write(b"%d 0 obj\n" % number)
    writer.write(body)
    writer.write(b"\nendobj\n")


def _refs(numbers: list[int]) -> bytes:
    return b" ".join(b"%d 0 R" % number for number in numbers)


def _serialised(obj: PdfObject) -> bytes:
    body = io.BytesIO()
    obj.write_to_stream(body)
    return body.getvalue()


def _renumbered(obj: PdfObject, renumber: Callable[[IndirectObject], int]) -> PdfObject:
    """``obj`` with every reference pointing to its number in the joined file.

    Changes the object in place (it belongs to a reader that is thrown away after its
    file is copied), so streams keep their encoded bytes untouched.
    """
    if isinstance(obj, IndirectObject):
        return IndirectObject(renumber(obj), 0, None)
    if isinstance(obj, DictionaryObject):  # streams are dictionaries too
        for key in list(obj.keys()):
            obj[NameObject(key)] = _renumbered(obj.raw_get(key), renumber)
        return obj
    if isinstance(obj, ArrayObject):
        for index, item in enumerate(obj):
            obj[index] = _renumbered(item, renumber)
        return obj
    return obj


def _array(value: PdfObject | None) -> list[PdfObject]:
    """A /K entry as a list: it may be one element or an array of them."""
    if value is None:
        return []
    resolved = value.get_object() if isinstance(value, IndirectObject) else value
    return list(resolved) if isinstance(resolved, ArrayObject) else [value]


def _number_tree(node: PdfObject | None) -> Iterator[tuple[int, PdfObject]]:
    """The (key, value) pairs of a number tree, values unresolved (references stay references)."""
    if node is None:
        return
    node = node.get_object()
    if not isinstance(node, DictionaryObject):
        return
    nums = node.get("/Nums")
    if nums is not None:
        nums = nums.get_object()
        for index in range(0, len(nums) - 1, 2):
            yield int(nums[index]), nums[index + 1]
    for kid in node.get("/Kids") or []:
        yield from _number_tree(kid)


def _marked(catalog: DictionaryObject) -> bool:
    mark_info = catalog.get("/MarkInfo")
    return mark_info is not None and bool(mark_info.get_object().get("/Marked"))


def _raw(dictionary: DictionaryObject, key: str) -> PdfObject | None:
    """The entry as written (a reference stays a reference), or None."""
    return dictionary.raw_get(key) if key in dictionary else None


def _int(value: PdfObject | None) -> int:
    resolved = value.get_object() if value is not None else None
    return int(resolved) if isinstance(resolved, (int, float)) else 0


def _text(value: PdfObject | None) -> str | None:
    return str(value.get_object()) if value is not None else None


def _xmp(*, title: str | None, lang: str | None, creator: str | None) -> bytes:
    """XMP metadata with what the document information says, as PDF/UA asks (dc:title)."""
    described = ""
    if title:
        described += f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>'
    if lang:
        described += f"<dc:language><rdf:Bag><rdf:li>{escape(lang)}</rdf:li></rdf:Bag></dc:language>"
    if creator:
        described += f"<xmp:CreatorTool>{escape(creator)}</xmp:CreatorTool>"
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<dc:format>application/pdf</dc:format>{described}"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="r"?>'
    ).encode()
