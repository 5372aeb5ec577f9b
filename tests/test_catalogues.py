"""The interface's catalogues (src/undersigned/locale/): compiled, current and complete.

For every shipped locale (a ``<code>/LC_MESSAGES/django.po``):

- the ``.po`` compiles with ``msgfmt --check`` (a broken ``%(name)s`` would fail at run time);
- the committed ``django.mo`` beside it is what the ``.po`` compiles to (decision 0017:
  servers need no gettext tools, so a stale ``.mo`` would ship old text).

For the locales in ``COMPLETE_LOCALES`` (issue 13's gate in CI):

- ``msgfmt --check --statistics`` counts no untranslated and no fuzzy message, and the
  header (plural forms) is not fuzzy;
- ``makemessages``, run into a temporary copy of the package's templates and code, finds
  no msgid the catalogue lacks.

Needs GNU gettext (``apt-get install gettext``; ``.ci/run`` installs it): skipped on a
developer's machine without it, failed on CI (CI=true).
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

import undersigned

PACKAGE_DIR = Path(undersigned.__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"

# Locales whose catalogue is complete: every message translated, none fuzzy, nothing
# missing. A language goes into settings.LANGUAGES and here together, once its translation is done.
COMPLETE_LOCALES: tuple[str, ...] = ("fr", "es", "de", "ar")

# What makemessages reads for the "django" domain (its default extensions).
SOURCE_SUFFIXES = (".py", ".html", ".txt")


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    message = f"`{name}` is missing: the catalogue checks need GNU gettext (`apt-get install -y gettext`)."
    if _on_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def shipped_locales() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))


def _po(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


@dataclass(frozen=True)
class Statistics:
    translated: int
    fuzzy: int
    untranslated: int
    header_fuzzy: bool  # or without plural forms: Django would then pluralise the English way


def statistics(po: Path, compiled: Path) -> Statistics:
    """``msgfmt --check --statistics`` of ``po``, compiled into ``compiled``; fails on errors."""
    result = subprocess.run(
        [_tool("msgfmt"), "--check", "--statistics", "-o", str(compiled), str(po)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},  # the counts in English, whatever the machine's locale
    )
    assert result.returncode == 0, f"{po}: msgfmt --check failed:\n{result.stderr}"

    def count(what: str) -> int:
        found = re.search(rf"(\d+) {what}", result.stderr)
        return int(found.group(1)) if found else 0

    with compiled.open("rb") as handle:
        plural_forms = "plural-forms" in gettext.GNUTranslations(handle).info()
    # msgfmt keeps a fuzzy header: makemessages' template header, never filled in.
    header_fuzzy = bool(re.search(r'^#,[^\n]*\bfuzzy\b[^\n]*\nmsgid ""\n', po.read_text(encoding="utf-8"), re.M))
    return Statistics(
        count("translated message"),
        count("fuzzy translation"),
        count("untranslated message"),
        header_fuzzy or not plural_forms,
    )


def _catalogue(mo: Path) -> dict[Any, str]:
    with mo.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]  # the parsed messages


def missing_msgids(po: Path, template: Path) -> list[str]:
    """The msgids of the ``template`` (.pot) that ``po`` lacks, as ``msgcmp`` reports them."""
    result = subprocess.run(
        [_tool("msgcmp"), "--use-fuzzy", "--use-untranslated", str(po), str(template)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    if result.returncode == 0:
        return []
    lines = template.read_text(encoding="utf-8").splitlines()
    found = [int(m.group(1)) for m in re.finditer(r":(\d+): this message is used but not defined", result.stderr)]
    return [_msgid_before(lines, n) for n in found] or [result.stderr]


def _msgid_before(lines: list[str], number: int) -> str:
    """The msgid of the entry whose msgstr is on line ``number`` (msgcmp reports that line)."""
    start = next(i for i in range(number - 1, -1, -1) if lines[i].startswith('msgid "'))
    text = [lines[start]]
    text += [line for line in lines[start + 1 : number] if line.startswith('"') and len(text) < 4]
    return " ".join(text)


def current_template(workdir: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Path:
    """The .pot makemessages makes today from a copy of the package's templates and code."""
    _tool("xgettext")
    copy = workdir / "undersigned"
    for source in PACKAGE_DIR.rglob("*"):
        relative = source.relative_to(PACKAGE_DIR)
        if source.suffix in SOURCE_SUFFIXES and source.is_file() and "__pycache__" not in relative.parts:
            target = copy / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]  # never the package's own catalogues
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], no_location=True, no_obsolete=True, keep_pot=True, verbosity=0)
    return copy / "locale" / "django.pot"


def test_complete_locales_are_shipped_languages(settings: Any) -> None:
    offered = {code for code, _name in settings.LANGUAGES} - {"en"}
    # A language is offered only once its catalogue is complete: every one is held here.
    assert set(COMPLETE_LOCALES) == offered, "offer a language only with a complete catalogue"
    assert set(COMPLETE_LOCALES) <= set(shipped_locales()), "a complete locale needs its catalogue"
    assert set(shipped_locales()) <= offered, "a catalogue for a language the site does not offer"


@pytest.mark.parametrize("locale", shipped_locales())
def test_each_catalogue_compiles_and_its_mo_is_current(locale: str, tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    statistics(_po(locale), compiled)
    mo = _po(locale).with_suffix(".mo")
    assert mo.is_file(), f"{mo.relative_to(PACKAGE_DIR)} is missing: compile it (README, Languages)"
    assert _catalogue(mo) == _catalogue(compiled), (
        f"{mo.relative_to(PACKAGE_DIR)} is older than its .po: compile it again (README, Languages)"
    )


@pytest.mark.parametrize("locale", COMPLETE_LOCALES)
def test_a_complete_catalogue_has_every_message_translated(locale: str, tmp_path: Path) -> None:
    counts = statistics(_po(locale), tmp_path / "django.mo")
    assert (counts.fuzzy, counts.untranslated, counts.header_fuzzy) == (0, 0, False), (locale, counts)
    assert counts.translated > 0


@pytest.mark.django_db  # settings fixture only; no query
def test_makemessages_finds_nothing_the_complete_catalogues_lack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    assert COMPLETE_LOCALES, "every offered language is complete: the list is never empty"
    template = current_template(tmp_path, monkeypatch, settings)
    missing = {locale: missing_msgids(_po(locale), template) for locale in COMPLETE_LOCALES}
    assert not any(missing.values()), missing


# The checks themselves, on catalogues made here: they must see what they are for.

SAMPLE_HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

"""


def test_the_statistics_see_untranslated_fuzzy_and_a_fuzzy_header(tmp_path: Path) -> None:
    po = tmp_path / "sample.po"
    po.write_text(
        SAMPLE_HEADER
        + 'msgid "Send"\nmsgstr "Envoyer"\n\n'
        + '#, fuzzy\nmsgid "Sent"\nmsgstr "Envoyé"\n\n'
        + 'msgid "Letter"\nmsgid_plural "Letters"\nmsgstr[0] ""\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    assert statistics(po, tmp_path / "a.mo") == Statistics(1, 1, 1, header_fuzzy=False)
    po.write_text("#, fuzzy\n" + SAMPLE_HEADER + 'msgid "Send"\nmsgstr "Envoyer"\n', encoding="utf-8")
    assert statistics(po, tmp_path / "b.mo").header_fuzzy


def test_a_stale_mo_is_told_from_a_current_one(tmp_path: Path) -> None:
    po = tmp_path / "sample.po"
    po.write_text(SAMPLE_HEADER + 'msgid "Send"\nmsgstr "Envoyer"\n', encoding="utf-8")
    statistics(po, tmp_path / "old.mo")
    po.write_text(SAMPLE_HEADER + 'msgid "Send"\nmsgstr "Expédier"\n', encoding="utf-8")
    statistics(po, tmp_path / "new.mo")
    assert _catalogue(tmp_path / "old.mo") != _catalogue(tmp_path / "new.mo")
    assert _catalogue(tmp_path / "new.mo")["Send"] == "Expédier"


@pytest.mark.django_db  # settings fixture only; no query
def test_makemessages_into_a_copy_finds_a_msgid_a_catalogue_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    template = current_template(tmp_path, monkeypatch, settings)
    text = template.read_text(encoding="utf-8")
    assert 'msgid "Skip to content"' in text  # base.html, read from the copy
    assert not (LOCALE_DIR / "django.pot").exists()  # the package's folder untouched
    po = tmp_path / "partial.po"
    po.write_text(SAMPLE_HEADER + 'msgid "Skip to content"\nmsgstr "Aller au contenu"\n', encoding="utf-8")
    missing = missing_msgids(po, template)
    assert len(missing) > 100, missing
    assert 'msgid "Skip to content"' not in missing
    assert 'msgid "Your data"' in missing
    assert missing_msgids(template, template) == []


@pytest.mark.parametrize("command", ["makemessages", "compilemessages"])
def test_the_catalogue_commands_need_no_secret_key_nor_database(command: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("UNDERSIGNED_SECRET_KEY", "DATABASE_URL")}
    env.pop("UNDERSIGNED_VAR_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "undersigned.cli", command, "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--locale" in result.stdout
    assert list(tmp_path.iterdir()) == []  # no ./var/ made where it ran
