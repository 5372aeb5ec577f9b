"""Hand-in packs: an open letter with its endorsers, as a print-ready PDF and as CSV.

A pack is for the whole letter or for one addressee. For a letter addressed to a
recipient group, an addressee's pack lists the endorsers from that recipient's country
(the national section hears from its own members). Only endorsers who may be named
(``Endorsement.is_listed``: confirmed, public, not hidden) are named; the counts include
those who chose not to be named, never hidden or withdrawn ones.

Nobody is presented as endorsing a text they did not endorse: endorsers are grouped by
the version of the text they endorsed (``Endorsement.version``), the current one first,
each group headed by its version's number, date and SHA-256 fingerprint; the CSV names
the version on every row.

A letter may exist in several languages, each with versions of its own. An addressee's
pack prints the text in the addressee's language when the letter has one
(``printed_version``), else the main language's, and says which texts the endorsers
named in it endorsed (language, version, fingerprint): a French endorser is never shown
under the English text.

PDFs are built by a worker as a ``delivery.PrintJob`` of kind ``hand_in`` (the print-job
machinery of ``delivery.bulk_print``: claim, progress, stall detection); the parts are
joined into one tagged PDF by ``delivery.pdf_join``. Endorsers stream from the database
``CHUNK`` at a time, each chunk one typst compile, so memory stays flat for a million
endorsers. CSV streams straight to the organiser's browser (``core.csv_export``).
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.utils import formats, timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext, pgettext
from markdown_it import MarkdownIt

from undersigned.campaigns.languages import find_text, language_name
from undersigned.campaigns.models import Recipient
from undersigned.core import countries
from undersigned.core.csv_export import csv_lines
from undersigned.core.languages import email_language
from undersigned.core.sanitising import BIDI_CONTROLS
from undersigned.delivery import bulk_print, printing

from . import queries
from .models import Endorsement, EndorsementCountry, EndorserKind, HandInPack, OpenLetter, OpenLetterVersion

TEMPLATE = Path(__file__).resolve().parent / "templates_typst" / "handin.typ"
# Endorsers per compile: about 25 pages of three columns, a compile short enough to
# show progress and small in memory (docs/performance.md).
CHUNK = 3000
FIELD_MAX = 200  # characters of any one endorser field printed


@dataclass(frozen=True)
class Pack:
    letter: OpenLetter
    recipient: Recipient | None

    @property
    def country(self) -> str:
        """The country whose endorsers this pack lists ("" for all)."""
        if self.recipient is not None and self.letter.recipient_group_id is not None:
            return self.recipient.country
        return ""


def endorsers(pack: Pack) -> QuerySet[Endorsement]:
    """The named endorsers of the pack, in the order they endorsed (by id, indexed)."""
    rows = Endorsement.objects.filter(letter=pack.letter, is_listed=True)
    if pack.country:
        rows = rows.filter(country=pack.country)
    return rows.order_by("id")


def printed_version(pack: Pack) -> OpenLetterVersion | None:
    """The text the pack prints: the current version in the addressee's language when the
    letter has its text in it, else the main language's current version."""
    texts = queries.published_texts(pack.letter)
    if not texts:
        return None
    found = find_text(texts, pack.recipient.language) if pack.recipient is not None else None
    return (found or texts[0]).version


def versions(pack: Pack) -> list[OpenLetterVersion]:
    """The letter's versions in the order of the pack's groups: the printed one first,
    then the others of its language (newest first), then each other language's."""
    printed = printed_version(pack)
    language = printed.language if printed else pack.letter.language
    found = OpenLetterVersion.objects.filter(letter=pack.letter).select_related("translates")
    return sorted(
        found, key=lambda v: (printed is None or v.pk != printed.pk, v.language != language, v.language, -v.number)
    )


def endorsers_by_version(
    pack: Pack, *fields: str, order: list[OpenLetterVersion] | None = None
) -> Iterator[tuple[OpenLetterVersion, Endorsement]]:
    """The named endorsers with the version they endorsed, grouped by version (in
    ``versions`` order), in the order they endorsed within a group. Nobody is ever shown under a text
    they did not endorse. One streamed query per version, each read from the
    ``endorsement_listed_version`` index in its order."""
    for version in versions(pack) if order is None else order:
        rows = endorsers(pack).filter(version=version)
        if fields:
            rows = rows.only(*fields)
        for endorsement in rows.iterator(chunk_size=2000):
            yield version, endorsement


def counts(pack: Pack) -> tuple[int, int]:
    """(verified, of which named) from the kept counters: no rows are counted."""
    if pack.country:
        row = EndorsementCountry.objects.filter(letter=pack.letter, country=pack.country).first()
        return (row.count, row.listed) if row else (0, 0)
    named = sum(EndorsementCountry.objects.filter(letter=pack.letter).values_list("listed", flat=True))
    return pack.letter.verified_count, named


def _clip(text: str) -> str:
    return BIDI_CONTROLS.sub("", " ".join(text.split()))[:FIELD_MAX]


def describe(endorsement: Endorsement) -> tuple[str, str]:
    """(name, the rest on one line) as printed: role, organisation, who signs, country."""
    parts: list[str] = []
    if endorsement.kind == EndorserKind.ORGANISATION:
        if endorsement.signatory:
            if endorsement.role:
                signed = gettext("signed by %(signatory)s, %(role)s") % {
                    "signatory": endorsement.signatory,
                    "role": endorsement.role,
                }
            else:
                signed = gettext("signed by %(signatory)s") % {"signatory": endorsement.signatory}
            parts.append(signed)
    else:
        parts.extend(part for part in (endorsement.role, endorsement.organisation) if part)
    if endorsement.country:
        parts.append(countries.name(endorsement.country))
    separator = pgettext("between the parts of an endorser's line: name, role, organisation", ", ")
    return _clip(endorsement.name), _clip(separator.join(parts))


def _blocks(text: str) -> list[dict[str, str]]:
    """The letter's Markdown as plain paragraphs and list items (no markup reaches typst)."""
    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[dict[str, str]] = []
    in_item = 0
    for token in tokens:
        if token.type == "list_item_open":
            in_item += 1
        elif token.type == "list_item_close":
            in_item -= 1
        elif token.type == "inline":
            pieces = [
                " " if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or []
                if child.type in ("text", "code_inline", "softbreak", "hardbreak")
            ]
            blocks.append({"kind": "item" if in_item else "paragraph", "text": BIDI_CONTROLS.sub("", "".join(pieces))})
    return blocks


def _day(day: datetime.date) -> str:
    return formats.date_format(day, "d F Y")


def _number(n: int) -> str:
    return formats.number_format(n, force_grouping=True)


def _version_line(version: OpenLetterVersion) -> str:
    return gettext("Version %(number)s of the text, of %(day)s, fingerprint (SHA-256) %(fingerprint)s…") % {
        "number": version.number,
        "day": _day(timezone.localdate(version.created_at)),
        "fingerprint": version.text_hash[:16],
    }


def _text_line(version: OpenLetterVersion) -> str:
    """ "the text in French (fr), version 2" """
    return gettext("the text in %(language)s, version %(number)s") % {
        "language": language_name(version.language, in_sentence=True),
        "number": version.number,
    }


def endorsed_texts_line(endorsed: list[OpenLetterVersion]) -> str:
    """Which texts the endorsers named in the pack endorsed, for a letter in several languages."""
    if not endorsed:
        return gettext("Nobody is named below yet.")
    texts = "; ".join(_text_line(v) for v in endorsed)
    return ngettext(
        "The endorsers named below endorsed %(texts)s.",
        "The endorsers named below endorsed one of these texts: %(texts)s.",
        len(endorsed),
    ) % {"texts": texts}


def pack_language(pack: Pack) -> str:
    """The pack's words are in the recipient's language, else the letter's."""
    return email_language(pack.recipient.language if pack.recipient else "", pack.letter.language)


def _header(
    pack: Pack, day: datetime.date, *, several_versions: bool, printed: OpenLetterVersion | None, texts_line: str
) -> dict[str, Any]:
    letter = pack.letter
    version = printed
    verified, named = counts(pack)
    meta = [
        _version_line(version) if version else gettext("Version – of the text"),
        gettext("Hand-in pack of %(day)s") % {"day": _day(day)},
    ]
    if texts_line and version is not None:
        meta[0] = gettext("%(version)s, in %(language)s") % {
            "version": meta[0],
            "language": language_name(version.language, in_sentence=True),
        }
        if version.translates is not None:
            meta.insert(1, gettext("A translation of %(text)s.") % {"text": _text_line(version.translates)})
    if pack.recipient is not None:
        who = pack.recipient.name + (f", {pack.recipient.role}" if pack.recipient.role else "")
        meta.insert(0, gettext("For %(recipient)s") % {"recipient": who})
    if texts_line:
        meta.append(texts_line)
    elif several_versions:
        meta.append(
            gettext(
                "The text has changed since it was first published: each endorser is listed "
                "under the version of the text they endorsed."
            )
        )
    authors = "; ".join(
        ", ".join(part for part in (a.get("name", ""), a.get("role", ""), a.get("place", "")) if part)
        for a in letter.authors
        if isinstance(a, dict)
    )
    return {
        "kicker": gettext("Open letter by %(organisation)s") % {"organisation": letter.organisation.name},
        "title": version.title if version else letter.title,
        "meta": meta,
        "blocks": _blocks(version.text if version else letter.text),
        "authors": authors,
        "count_line": _count_line(verified, pack.country),
        "unnamed_line": (
            gettext("%(named)s named below; %(unnamed)s chose to be counted without being named.")
            % {"named": _number(named), "unnamed": _number(verified - named)}
            if verified != named
            else ""
        ),
    }


def _count_line(verified: int, country: str) -> str:
    values = {"count": _number(verified), "country": countries.name(country) if country else ""}
    if country:
        return (
            ngettext(
                "%(count)s verified endorsement from %(country)s",
                "%(count)s verified endorsements from %(country)s",
                verified,
            )
            % values
        )
    return ngettext("%(count)s verified endorsement", "%(count)s verified endorsements", verified) % values


def _group_heading(version: OpenLetterVersion, printed: OpenLetterVersion | None) -> str:
    """The line above the endorsers of one version: which text they endorsed."""
    if printed is not None and version.pk == printed.pk:
        return gettext("Endorsed the text printed above: %(version)s") % {"version": _version_line(version)}
    if printed is None or version.language == printed.language:
        return gettext("Endorsed an earlier text than the one printed above: %(version)s") % {
            "version": _version_line(version)
        }
    return gettext("Endorsed the text in %(language)s: %(version)s") % {
        "language": language_name(version.language, in_sentence=True),
        "version": _version_line(version),
    }


def _directed(header: dict[str, Any], rtl: bool) -> dict[str, Any]:
    """The header with each line and paragraph as {"text", "dir"}: its own base direction
    by its first strong character (printing.direction), so an English line in an Arabic
    pack ("0 verified endorsements") is not reordered as Arabic, nor the reverse."""

    def piece(text: str) -> dict[str, str]:
        return {"text": text, "dir": printing.direction(text, rtl)}

    return {
        **header,
        **{key: piece(header[key]) for key in ("kicker", "title", "authors", "count_line", "unnamed_line")},
        "meta": [piece(line) for line in header["meta"]],
        "blocks": [{**block, "dir": printing.direction(block["text"], rtl)} for block in header["blocks"]],
    }


def _document(
    pack: Pack,
    day: datetime.date,
    sections: list[dict[str, Any]],
    *,
    first: bool,
    several_versions: bool,
    printed: OpenLetterVersion | None,
    texts_line: str,
) -> dict[str, Any]:
    letter = pack.letter
    title = printed.title if printed else letter.title
    lang = ((printed.language if printed else letter.language) or "en").split("-")[0].lower()
    rtl = lang in printing.RTL_LANGUAGES
    for section in sections:
        if section["heading"] is not None:
            section["heading"] = {"text": section["heading"], "dir": printing.direction(section["heading"], rtl)}
    header = (
        _directed(_header(pack, day, several_versions=several_versions, printed=printed, texts_line=texts_line), rtl)
        if first
        else None
    )
    return {
        "title": title,
        "lang": lang,
        "dir": "rtl" if rtl else "ltr",
        "footer": gettext("%(title)s — hand-in pack of %(day)s") % {"title": title, "day": _day(day)},
        "header": header,
        "sections": sections,
    }


def _chunks(
    rows: Iterable[tuple[OpenLetterVersion, Endorsement]], printed: OpenLetterVersion | None
) -> Iterator[list[dict[str, Any]]]:
    """Up to ``CHUNK`` endorsers at a time, as sections: one per version, headed where the
    version's group begins (a group that goes on from the chunk before has no heading)."""
    chunk: list[dict[str, Any]] = []
    size = 0
    version_id: int | None = None
    for version, endorsement in rows:
        if version.pk != version_id:
            chunk.append({"heading": _group_heading(version, printed), "endorsers": []})
            version_id = version.pk
        elif not chunk:
            chunk.append({"heading": None, "endorsers": []})
        chunk[-1]["endorsers"].append(describe(endorsement))
        size += 1
        if size >= CHUNK:
            yield chunk
            chunk, size = [], 0
    yield chunk  # the last (maybe empty: the first part always prints the letter)


def write_pdf(pack: Pack, out: Any, *, day: datetime.date, on_progress: Any = None) -> int:
    """Write the pack's PDF to ``out``; return how many endorsers it names."""
    with translation.override(pack_language(pack)):  # its headings, dates and counts
        return _write_pdf(pack, out, day=day, on_progress=on_progress)


def _write_pdf(pack: Pack, out: Any, *, day: datetime.date, on_progress: Any) -> int:
    # Imported here: typst and pypdf load only in the worker that builds a pack, not in
    # the web workers that import this module for the CSV and the dashboard.
    from undersigned.delivery import pdf, pdf_join  # noqa: PLC0415 (typst and pypdf only in a worker)

    fields = ("id", "kind", "name", "role", "organisation", "signatory", "country", "version_id")
    order = versions(pack)
    printed = printed_version(pack)
    several_versions = len(order) > 1
    texts_line = ""
    if len({v.language for v in order}) > 1:
        # In several languages: say which texts the named endorsers endorsed (one
        # indexed look per version, in the worker).
        texts_line = endorsed_texts_line([v for v in order if endorsers(pack).filter(version=v).exists()])
    rows = endorsers_by_version(pack, *fields, order=order)
    named = 0
    # The print prefix: the worker's housekeeping removes a folder a killed build left.
    with tempfile.TemporaryDirectory(prefix=printing.TEMP_PREFIX) as folder:
        parts: list[Path] = []
        for number, chunk in enumerate(_chunks(rows, printed)):
            if number and not chunk:
                break
            path = Path(folder) / f"{number:06d}.pdf"
            document = _document(
                pack,
                day,
                chunk,
                first=number == 0,
                several_versions=several_versions,
                printed=printed,
                texts_line=texts_line,
            )
            path.write_bytes(pdf.render_data(TEMPLATE, document))
            parts.append(path)
            named += sum(len(section["endorsers"]) for section in chunk)
            if on_progress is not None:
                on_progress(named)
        pdf_join.join_pdfs(parts, out, title=printed.title if printed else pack.letter.title)
    return named


# --- CSV ----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "name",
    "role",
    "organisation",
    "signed_for_by",
    "website",
    "country",
    "statement",
    "endorsed_on",
    "text_version",
    "text_version_date",
    "text_fingerprint",
    "text_language",
)


def csv_rows(pack: Pack) -> Iterator[str]:
    """The pack as CSV lines (UTF-8 with a byte order mark, formula-safe), grouped by the
    version of the text each endorser endorsed, the current one first; each row names its
    version (number, date, SHA-256 fingerprint)."""

    def rows() -> Iterator[tuple[str, ...]]:
        for version, e in endorsers_by_version(pack):
            signed = e.signatory if e.kind == EndorserKind.ORGANISATION else ""
            endorsed = timezone.localdate(e.confirmed_at).isoformat() if e.confirmed_at else ""
            yield (
                e.name,
                e.role,
                e.organisation,
                signed,
                e.website,
                e.country,
                e.statement,
                endorsed,
                str(version.number),
                timezone.localdate(version.created_at).isoformat(),
                version.text_hash,
                version.language,
            )

    return csv_lines(CSV_COLUMNS, rows())


# --- The print job ------------------------------------------------------------------------


def build_job(job: Any, progress: dict[str, int]) -> None:
    """Build a hand-in ``PrintJob`` (registered with ``bulk_print`` for kind ``hand_in``)."""
    letter = job.open_letter
    if letter is None:
        raise ValueError("a hand-in job needs an open letter")
    pack = Pack(letter, job.recipient)
    _, named = counts(pack)
    bulk_print.touch(job.pk, total=named, done=0)
    progress["total"] = named

    def on_progress(done: int) -> None:
        progress["done"] = done
        bulk_print.touch(job.pk, done=done)

    who = f"-{job.recipient.pk}" if job.recipient is not None else ""
    name = f"{bulk_print.FOLDER}/{job.pk}-{letter.slug}{who}-hand-in.pdf"
    with tempfile.TemporaryFile() as out:
        count = write_pdf(pack, out, day=timezone.localdate(job.created_at), on_progress=on_progress)
        bulk_print.finish(job, out, name, count)


# --- Every section's pack at once ---------------------------------------------------------
#
# A batch is one ``PrintJob`` of kind "sections" (claimed, watched for stalls and finished
# by ``bulk_print`` like every print job). It builds each member's PDF and CSV into the
# media storage as parts, one member at a time (``done`` counts members), then copies the
# parts into one ZIP through a fixed-size buffer and deletes them, so memory stays flat
# however many members and endorsers there are. A member whose parts this job already
# holds is skipped: a batch started again after its worker died (``services.hand_in``
# hands the stalled batch's finished parts to the new job) goes on where it stopped.


def arcname(recipient: Recipient) -> str:
    """The member's files' name in the ZIP: country, name and id (unique, ASCII, no path)."""
    name = slugify(recipient.name)[:60] or "member"
    return f"{(recipient.country or 'xx').lower()}-{name}-{recipient.pk}"


def _save(path: str, data: Any) -> str:
    default_storage.delete(path)  # a part left by a killed build: replaced, not renamed
    return default_storage.save(path, File(data, name=path))


def _build_member(job: Any, pack_row: HandInPack) -> None:
    pack = Pack(pack_row.letter, pack_row.recipient)
    verified, _ = counts(pack)
    folder = f"{bulk_print.FOLDER}/sections-{job.pk}"
    base = arcname(pack_row.recipient)
    with tempfile.TemporaryFile() as pdf_out, tempfile.TemporaryFile() as csv_out:
        named = write_pdf(pack, pdf_out, day=timezone.localdate(job.created_at))
        for line in csv_rows(pack):
            csv_out.write(line.encode("utf-8"))
        pdf_size, csv_size = pdf_out.tell(), csv_out.tell()
        pdf_out.seek(0)
        csv_out.seek(0)
        pdf_part = _save(f"{folder}/{base}.pdf", pdf_out)
        csv_part = _save(f"{folder}/{base}.csv", csv_out)
    HandInPack.objects.filter(pk=pack_row.pk).update(
        job=job,
        built_at=timezone.now(),
        verified=verified,
        named=named,
        pdf_part=pdf_part,
        csv_part=csv_part,
        arcname=base,
        pdf_size=pdf_size,
        csv_size=csv_size,
        updated_at=timezone.now(),
    )


def _has_parts(pack_row: HandInPack, job: Any) -> bool:
    return bool(
        pack_row.job_id == job.pk
        and pack_row.built_at
        and pack_row.pdf_part
        and pack_row.csv_part
        and default_storage.exists(pack_row.pdf_part)
        and default_storage.exists(pack_row.csv_part)
    )


def build_batch(job: Any, progress: dict[str, int]) -> None:
    """Build a "sections" ``PrintJob``: every member's pack, then one ZIP of them all.

    A batch that fails with an error deletes the parts it holds (they name endorsers);
    one killed mid-way leaves them for the batch started after it (``services.sections``).
    """
    try:
        _build_batch(job, progress)
    except bulk_print.Abandoned:
        raise  # another batch took over this one's parts
    except Exception:
        for row in HandInPack.objects.filter(job=job).exclude(pdf_part=""):
            default_storage.delete(row.pdf_part)
            default_storage.delete(row.csv_part)
        HandInPack.objects.filter(job=job).update(pdf_part="", csv_part="")
        raise


def _build_batch(job: Any, progress: dict[str, int]) -> None:
    letter = job.open_letter
    if letter is None or letter.recipient_group_id is None:
        raise ValueError("a batch of packs needs an open letter addressed to a recipient group")
    members = list(Recipient.objects.filter(groups=letter.recipient_group_id).order_by("name", "id"))
    progress["total"] = len(members)
    done = sum(
        1 for row in HandInPack.objects.filter(letter=letter, job=job, recipient__in=members) if _has_parts(row, job)
    )
    bulk_print.touch(job.pk, total=len(members), done=done)
    progress["done"] = done
    rows: list[HandInPack] = []
    for recipient in members:
        pack_row, _ = HandInPack.objects.select_related("letter", "recipient").get_or_create(
            letter=letter, recipient=recipient
        )
        if not _has_parts(pack_row, job):
            _build_member(job, pack_row)
            done += 1
            progress["done"] = done
            bulk_print.touch(job.pk, done=done)
        pack_row.refresh_from_db()
        rows.append(pack_row)
    name = f"{bulk_print.FOLDER}/{job.pk}-{letter.slug}-sections.zip"
    with tempfile.TemporaryFile() as out:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for row in rows:
                for part, extension in ((row.pdf_part, "pdf"), (row.csv_part, "csv")):
                    with (
                        default_storage.open(part, "rb") as source,
                        archive.open(f"{row.arcname}.{extension}", "w", force_zip64=True) as target,
                    ):
                        shutil.copyfileobj(source, target, ZIP_BUFFER)
                bulk_print.touch(job.pk)  # a long copy is not a stall
        bulk_print.finish(job, out, name, len(rows))
    for row in rows:
        default_storage.delete(row.pdf_part)
        default_storage.delete(row.csv_part)
    HandInPack.objects.filter(pk__in=[row.pk for row in rows]).update(pdf_part="", csv_part="")


ZIP_BUFFER = 1024 * 1024


def member_file(pack_row: HandInPack, extension: str) -> bytes | None:
    """The member's PDF or CSV from its batch's ZIP (None when the ZIP is gone)."""
    job = pack_row.job
    if job is None or not job.file or not pack_row.arcname:
        return None
    try:
        with default_storage.open(job.file, "rb") as handle, zipfile.ZipFile(handle) as archive:
            return archive.read(f"{pack_row.arcname}.{extension}")
    except (FileNotFoundError, KeyError):
        return None


class MemberFile:
    """One member's file inside a batch's ZIP, read in blocks; closing it closes the ZIP."""

    def __init__(self, handle: Any, archive: zipfile.ZipFile, member: Any) -> None:
        self._handle, self._archive, self._member = handle, archive, member

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._member.read(size)
        return data

    def close(self) -> None:
        self._member.close()
        self._archive.close()
        self._handle.close()


def open_member_file(pack_row: HandInPack, extension: str) -> MemberFile | None:
    """The member's PDF or CSV from its batch's ZIP as a file to stream (None when gone)."""
    job = pack_row.job
    if job is None or not job.file or not pack_row.arcname:
        return None
    try:
        handle = default_storage.open(job.file, "rb")
    except FileNotFoundError:
        return None
    try:
        archive = zipfile.ZipFile(handle)
        return MemberFile(handle, archive, archive.open(f"{pack_row.arcname}.{extension}"))
    except (KeyError, zipfile.BadZipFile):
        handle.close()
        return None
