"""Joining PDFs (delivery/pdf_join.py) keeps them accessible: tags, language and title.

Real typst output joined, read back with poppler (pdfinfo) and pypdf. No database.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, IndirectObject

from tests.factories import printable_letter
from undersigned.delivery import pdf
from undersigned.delivery.pdf_join import join_pdfs

pytestmark = pytest.mark.skipif(not shutil.which("pdfinfo"), reason="needs poppler-utils (pdfinfo)")


def parts(tmp_path: Path) -> list[Path]:
    """Three parts as print jobs make them: two English ones around a German one."""
    groups = [
        [printable_letter("Ana Ruiz"), printable_letter("Siobhán O'Brien")],
        [printable_letter("Jana Šimůnková", language="de", greeting="Sehr geehrter Herr Ashby,")],
        [printable_letter("Mina Okafor")],
    ]
    paths = []
    for number, group in enumerate(groups):
        path = tmp_path / f"{number}.pdf"
        path.write_bytes(pdf.render_letters(group))
        paths.append(path)
    return paths


def pdfinfo(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pdfinfo", *options, str(path)], capture_output=True, text=True, check=True)


def joined(tmp_path: Path, sources: list[Path], *, title: str | None = None) -> Path:
    out = tmp_path / "joined.pdf"
    with out.open("wb") as handle:
        join_pdfs(sources, handle, title=title)
    return out


# pypdf's objects are typed as the base PdfObject; these tests read them as what they are.
def resolved(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def kids(element: Any) -> list[Any]:
    k = resolved(element["/K"])
    return list(k) if isinstance(k, ArrayObject) else [k]


def test_a_joined_pdf_is_tagged_and_has_its_language_and_title(tmp_path: Path) -> None:
    out = joined(tmp_path, parts(tmp_path), title="Letters to post: Keep the riverside path open")

    info = pdfinfo(out)
    assert info.stderr == ""  # no syntax error
    assert "Tagged:          yes\n" in info.stdout
    assert "Title:           Letters to post: Keep the riverside path open\n" in info.stdout
    assert "Pages:           4\n" in info.stdout
    reader = PdfReader(out, strict=True)
    catalog: Any = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en"
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a PDF boolean object)
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712 (a PDF boolean object)
    assert reader.metadata is not None
    assert reader.metadata.title == "Letters to post: Keep the riverside path open"
    assert reader.xmp_metadata is not None
    assert reader.xmp_metadata.dc_title == {"x-default": "Letters to post: Keep the riverside path open"}
    assert reader.xmp_metadata.dc_language == ["en"]


def test_the_joined_structure_is_the_parts_structures_in_order(tmp_path: Path) -> None:
    sources = parts(tmp_path)
    out = joined(tmp_path, sources)

    # pdfinfo -struct prints the tree: the parts' trees, each under its own /Document,
    # become one /Document holding all their elements in order.
    trees = [pdfinfo(source, "-struct").stdout.splitlines() for source in sources]
    assert all(tree[0] == "Document" for tree in trees)
    expected = ["Document"] + [line for tree in trees for line in tree[1:]]
    result = pdfinfo(out, "-struct")
    assert result.stderr == ""
    assert result.stdout.splitlines() == expected
    assert "Sehr geehrter Herr Ashby," in pdfinfo(out, "-struct-text").stdout
    # With no title given, the first part's ("Letters", from pdf.render_letters).
    assert "Title:           Letters\n" in pdfinfo(out).stdout


def test_each_page_finds_its_elements_through_the_parent_tree(tmp_path: Path) -> None:
    reader = PdfReader(joined(tmp_path, parts(tmp_path)), strict=True)
    root: Any = resolved(reader.trailer["/Root"])["/StructTreeRoot"]
    entries: dict[int, Any] = {}
    for leaf in root["/ParentTree"]["/Kids"]:
        nums = leaf.get_object()["/Nums"]
        for index in range(0, len(nums), 2):
            assert int(nums[index]) not in entries  # no key is used twice
            entries[int(nums[index])] = nums[index + 1]
    keys = [int(resolved(page)["/StructParents"]) for page in reader.pages]
    assert len(set(keys)) == len(keys) == 4
    assert int(root["/ParentTreeNextKey"]) == max(keys) + 1
    for page, key in zip(reader.pages, keys, strict=True):
        elements = resolved(entries[key])
        assert isinstance(elements, ArrayObject)
        assert len(elements) > 0
        # Every element a page's marked content belongs to is on that page.
        assert {resolved(element)["/Pg"].indirect_reference for element in elements} == {page.indirect_reference}
    # Every element hangs from the one /Document, which hangs from the root.
    document = resolved(root["/K"][0])
    assert (document["/S"], document["/P"].indirect_reference) == ("/Document", root.indirect_reference)
    assert all(resolved(kid)["/P"].indirect_reference == document.indirect_reference for kid in kids(document))


def test_a_part_in_another_language_keeps_its_language(tmp_path: Path) -> None:
    reader = PdfReader(joined(tmp_path, parts(tmp_path)))
    document = resolved(resolved(reader.trailer["/Root"])["/StructTreeRoot"]["/K"][0])
    pages = [page.indirect_reference for page in reader.pages]

    def page_of(element: Any) -> int | None:
        if "/Pg" in element:
            return pages.index(element["/Pg"].indirect_reference)
        return next((page_of(resolved(kid)) for kid in kids(element) if isinstance(kid, IndirectObject)), None)

    languages = {(page_of(resolved(kid)), resolved(kid).get("/Lang")) for kid in kids(document)}
    assert {lang for page, lang in languages if page == 2} == {"de"}  # the German letter's page
    assert {lang for page, lang in languages if page != 2} <= {None, "en"}


def test_an_untagged_part_makes_the_joined_pdf_claim_no_tags(tmp_path: Path) -> None:
    tagged, untagged = parts(tmp_path)[:2]
    # pypdf's writer drops the tag structure: a part from elsewhere with no tags.
    writer = PdfWriter()
    writer.append(untagged)
    plain = tmp_path / "untagged.pdf"
    writer.write(plain)
    assert "Tagged:          no\n" in pdfinfo(plain).stdout

    out = joined(tmp_path, [tagged, plain])
    info = pdfinfo(out)
    assert info.stderr == ""
    assert "Tagged:          no\n" in info.stdout
    assert "Pages:           3\n" in info.stdout
    assert all("/StructParents" not in page for page in PdfReader(out).pages[2:])


def test_the_output_need_not_be_seekable(tmp_path: Path) -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            chunk = bytes(data)  # type: ignore[call-overload]
            self.data += chunk
            return len(chunk)

    pipe = Pipe()
    assert join_pdfs(parts(tmp_path), pipe) == 4  # type: ignore[arg-type]
    out = tmp_path / "piped.pdf"
    out.write_bytes(pipe.data)
    assert pdfinfo(out).stderr == ""
