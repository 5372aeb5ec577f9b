"""The editor's forms for campaigns and open letters.

Limits are the campaign file's (``campaign_files.schema.MAX_LENGTHS`` and ``limits``),
placeholders are checked by ``campaigns.placeholders.check_placeholders`` as
``undersigned import`` checks them, and text arrives with ``\\n`` line ends
(``core.form_fields``): a campaign made here can be exported and imported again.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns.campaign_files import limits
from undersigned.campaigns.campaign_files.schema import LANGUAGE, MAX_LENGTHS, SLUG
from undersigned.campaigns.enums import (
    CHANNEL_NAMES_FOR_ORGANISERS,
    CHANNEL_ORDER,
    REPLY_ASK_DAYS_MAX,
    REPLY_ASK_DAYS_MIN,
    ReplyAddress,
    Routing,
)
from undersigned.campaigns.models import Campaign, Recipient, RecipientGroup, default_reply_ask_days
from undersigned.campaigns.placeholders import KNOWN, check_placeholders
from undersigned.campaigns.services import CampaignInput, TranslationInput
from undersigned.core.form_fields import MultiLineField, SingleLineField
from undersigned.openletters.services.editing import AuthorInput, LetterTranslationInput, OpenLetterInput

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
_DAYS_MESSAGE = gettext_lazy("Give a whole number of days from 1 to 180.")


class DuplicateForm(forms.Form):
    """The "Duplicate" button's form: its submission key makes a double click one copy."""

    submission_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def key(self) -> str:
        """The submitted key, or "" (an old or broken form makes a copy each time)."""
        value = self.cleaned_data.get("submission_key") if self.is_valid() else None
        return str(value) if value else ""


SUMMARY_HELP = gettext_lazy("One or two sentences under the title.")
MARKDOWN_HELP = gettext_lazy(
    "Markdown: **bold**, *italic*, [a link](https://example.org), lists with -. No HTML. Preview shows the result."
)
PLACEHOLDERS = [(f"{{{{ {name} }}}}", meaning) for name, meaning in KNOWN.items()]


def _too_long(limit: int) -> dict[str, Any]:
    # Django fills in the limit and the length typed.
    return {"max_length": gettext_lazy("Keep this to %(limit_value)d characters; it has %(show_value)d.")}


def _text(limit: int, *, label: Any, required: bool = False, **kwargs: Any) -> SingleLineField:
    return SingleLineField(
        label=label,
        max_length=limit,
        required=required,
        error_messages={
            **_too_long(limit),
            "required": gettext_lazy("This is needed."),
        },
        **kwargs,
    )


def _long_text(limit: int, *, label: Any, rows: int, required: bool = False, **kwargs: Any) -> MultiLineField:
    return MultiLineField(
        label=label,
        max_length=limit,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={**_too_long(limit), "required": gettext_lazy("This is needed.")},
        **kwargs,
    )


def _translated_summary() -> MultiLineField:
    """A language tab's summary (campaigns and open letters: 1000 characters each)."""
    return _long_text(
        1000,
        label=gettext_lazy("Summary"),
        rows=2,
        help_text=gettext_lazy("Left empty, the main language's summary is shown."),
    )


def _open_letter_text() -> MultiLineField:
    """An open letter's text, in its main language or another."""
    return _long_text(
        MAX_LENGTHS["open_letter.text"],
        label=gettext_lazy("Text of the letter"),
        rows=16,
        required=True,
        help_text=MARKDOWN_HELP,
    )


# The comma as people type it: Latin, Arabic (U+060C), ideographic (U+3001), full-width (U+FF0C).
TAG_SEPARATORS = re.compile("[,\u060c\u3001\uff0c]")


def split_tags(raw: str) -> list[str]:
    """``"water, Wendmouth ,water"`` → ``["water", "Wendmouth"]``: trimmed, each once, in
    order; an Arabic or ideographic comma separates as a Latin one does."""
    tags: list[str] = []
    for part in TAG_SEPARATORS.split(raw):
        tag = " ".join(part.split())
        if tag and tag.casefold() not in {t.casefold() for t in tags}:
            tags.append(tag)
    return tags


def split_lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.split("\n") if line.strip()]


class _EditorForm(forms.Form):
    """What campaigns and open letters share: slug, title, tags, language, deadline."""

    kind = "campaign"
    title = _text(200, label=gettext_lazy("Title"), required=True)
    slug = forms.CharField(
        label=gettext_lazy("Address (slug)"),
        max_length=80,
        required=False,
        help_text=gettext_lazy(
            "The last part of the page's address: letters, digits, hyphens and underscores. "
            "Left empty, it is made from the title. It can change only while this is a draft."
        ),
        error_messages=_too_long(80),
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags"),
        required=False,
        max_length=20 * 52,
        help_text=gettext_lazy("Separated by commas, e.g. water, Wendmouth, transport."),
        error_messages=_too_long(20 * 52),
    )
    language = forms.CharField(
        label=gettext_lazy("Language"),
        max_length=10,
        initial="en",
        help_text=gettext_lazy("A language code such as en, de or pt-BR."),
        error_messages={**_too_long(10), "required": gettext_lazy("Give a language code, such as en.")},
    )
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=gettext_lazy("Optional. After this moment nobody can take part any more."),
        error_messages={"invalid": gettext_lazy("Give a date and time, e.g. 2027-03-31 17:00.")},
    )

    def __init__(self, *args: Any, slug_fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slug_fixed = slug_fixed
        if slug_fixed:
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = gettext_lazy(
                "Published pages keep their address: it is in emails, posts and printed letters."
            )

    @property
    def tag_chips(self) -> list[str]:
        """The tags as the page will show them, for the chips under the field."""
        raw = self.data.get("tags", "") if self.is_bound else self.initial.get("tags", "")
        return split_tags(str(raw or ""))

    def clean_slug(self) -> str:
        slug = str(self.cleaned_data.get("slug") or "").strip()
        if not slug and not self.slug_fixed:
            slug = slugify(str(self.data.get("title", "")))[:80].strip("-")
            if not slug:
                raise forms.ValidationError(
                    _("Choose an address: letters, digits and hyphens, e.g. keep-the-path-open.")
                )
        if SLUG.fullmatch(slug) is None:
            raise forms.ValidationError(
                _("Use only letters, digits, hyphens and underscores, e.g. keep-the-path-open.")
            )
        return slug

    def clean_tags(self) -> tuple[str, ...]:
        tags = split_tags(str(self.cleaned_data.get("tags") or ""))
        limit = MAX_LENGTHS["campaign.tags"]
        long = [tag for tag in tags if len(tag) > limit]
        if long:
            raise forms.ValidationError(
                _("Keep each tag under %(limit)d characters: “%(tag)s” is too long.")
                % {"limit": limit + 1, "tag": long[0]}
            )
        most = limits.CAMPAIGN_TAGS.most
        if len(tags) > most:
            raise forms.ValidationError(_("At most %(most)d tags, please.") % {"most": most})
        return tuple(tags)

    # The languages the campaign or letter has a tab (a translation) in: none may become the main one.
    other_languages: list[str] | tuple[str, ...] = ()
    has_tab_message = gettext_lazy(
        "The campaign has a tab for %(language)s already. Remove that tab first, or keep the main language as it is."
    )

    def clean_language(self) -> str:
        language = str(self.cleaned_data.get("language") or "").strip()
        if LANGUAGE.fullmatch(language) is None:
            raise forms.ValidationError(_("Give a language code such as en, de or pt-BR."))
        if language.casefold() in {code.casefold() for code in self.other_languages}:
            raise forms.ValidationError(str(self.has_tab_message) % {"language": language})
        return language


class RecipientChoice:
    """The editor's list of the organisation's recipients: ticked or not, and in which order."""

    def __init__(self, form: forms.Form, recipients: list[Recipient], chosen: list[int]) -> None:
        self.recipients = recipients
        self.chosen = chosen
        self.form = form

    def rows(self) -> list[dict[str, Any]]:
        position = {pk: index + 1 for index, pk in enumerate(self.chosen)}
        rows = [
            {"recipient": r, "checked": r.pk in position, "position": position.get(r.pk, "")} for r in self.recipients
        ]
        # The chosen first, in their order; then the rest by name.
        rows.sort(key=lambda row: (not row["checked"], row["position"] or 0))
        return rows


def chosen_recipients(data: Any, recipients: list[Recipient]) -> tuple[list[int], list[str]]:
    """The ticked recipients in the order their numbers give (ties: the list's order), and problems."""
    own = {r.pk for r in recipients}
    ticked: list[tuple[int, int, int]] = []
    problems: list[str] = []
    for index, raw in enumerate(data.getlist("recipients") if hasattr(data, "getlist") else []):
        if not str(raw).isdigit() or int(raw) not in own:
            problems.append(_("One of the chosen recipients is not one of your organisation's. Reload the page."))
            continue
        pk = int(raw)
        order = str(data.get(f"position_{pk}", "")).strip()
        number = int(order) if order.isdigit() and len(order) < 6 else 10**6 + index
        ticked.append((number, index, pk))
    ticked.sort()
    return list(dict.fromkeys(pk for _number, _index, pk in ticked)), problems[:1]


class _LetterTextChecks(forms.Form):
    """A template letter's fields and their checks, the same in every language: limits,
    placeholders, prompts."""

    subject = _text(MAX_LENGTHS["letter.subject"], label=gettext_lazy("Subject of the letter"), required=True)
    body = _long_text(
        MAX_LENGTHS["letter.body"],
        label=gettext_lazy("Text of the letter"),
        rows=14,
        required=True,
        help_text=gettext_lazy("Supporters start from this text and change it. Placeholders are listed below."),
    )
    prompts = MultiLineField(
        label=gettext_lazy("Writing prompts"),
        required=False,
        max_length=limits.PROMPTS.most * (MAX_LENGTHS["letter.prompts"] + 1),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One question per line, to help supporters write in their own words."),
    )

    def _placeholders(self, field: str) -> str:
        value = str(self.cleaned_data.get(field) or "")
        for unknown in check_placeholders(value):
            if unknown.suggestion:
                message = _("Unknown placeholder {{ %(name)s }}: did you mean {{ %(suggestion)s }}?") % {
                    "name": unknown.name,
                    "suggestion": unknown.suggestion,
                }
            else:
                message = _("Unknown placeholder {{ %(name)s }}: use one of the placeholders listed below.") % {
                    "name": unknown.name
                }
            self.add_error(field, message)
        return value

    def clean_subject(self) -> str:
        return self._placeholders("subject")

    def clean_body(self) -> str:
        return self._placeholders("body")

    def clean_prompts(self) -> tuple[str, ...]:
        prompts = split_lines(str(self.cleaned_data.get("prompts") or ""))
        limit = MAX_LENGTHS["letter.prompts"]
        if any(len(p) > limit for p in prompts):
            raise forms.ValidationError(_("Keep each prompt to %(limit)d characters.") % {"limit": limit})
        if len(prompts) > limits.PROMPTS.most:
            raise forms.ValidationError(_("At most %(most)d prompts, please.") % {"most": limits.PROMPTS.most})
        return tuple(prompts)


class CampaignForm(_EditorForm, _LetterTextChecks):
    summary = _long_text(
        1000, label=gettext_lazy("Summary"), rows=2, help_text=gettext_lazy("One or two sentences under the title.")
    )
    background = _long_text(
        MAX_LENGTHS["campaign.background"],
        label=gettext_lazy("Background"),
        rows=10,
        help_text=MARKDOWN_HELP,
    )
    author_name = _text(200, label=gettext_lazy("Started by (name)"))
    author_role = _text(200, label=gettext_lazy("Their role"))
    author_place = _text(200, label=gettext_lazy("Their place"))
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Ways of sending"),
        choices=[(str(channel), CHANNEL_NAMES_FOR_ORGANISERS[channel]) for channel in CHANNEL_ORDER],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": gettext_lazy("Choose at least one way of sending."),
            "invalid_choice": gettext_lazy("Choose from the ways listed."),
        },
    )
    min_uniqueness = forms.IntegerField(
        label=gettext_lazy("Own words needed (percent)"),
        min_value=0,
        max_value=100,
        initial=0,
        widget=forms.NumberInput(attrs={"type": "range", "min": 0, "max": 100, "step": 1}),
        help_text=gettext_lazy(
            "How much of a letter must differ from your text before it can be sent. 0 lets supporters "
            "send your text unchanged; 30 asks them to rewrite about a third. Recipients read "
            "letters in people's own words more closely, but a high value stops some from writing."
        ),
        error_messages={
            "required": gettext_lazy("Give a number from 0 to 100."),
            "invalid": gettext_lazy("Give a whole number from 0 to 100."),
            "min_value": gettext_lazy("Give a number from 0 to 100."),
            "max_value": gettext_lazy("Give a number from 0 to 100."),
        },
    )
    posts_for_supporters = forms.BooleanField(
        label=gettext_lazy("We print and post letters for supporters who ask"),
        required=False,
        help_text=gettext_lazy("You then print them in bulk from the campaign's print page."),
    )
    reply_ask_days = forms.IntegerField(
        label=gettext_lazy("Ask supporters about a reply after (days)"),
        required=False,
        min_value=REPLY_ASK_DAYS_MIN,
        max_value=REPLY_ASK_DAYS_MAX,
        initial=default_reply_ask_days,
        widget=forms.NumberInput(attrs={"min": REPLY_ASK_DAYS_MIN, "max": REPLY_ASK_DAYS_MAX, "inputmode": "numeric"}),
        help_text=gettext_lazy(
            'Supporters who gave an email get one message, "Did you get a reply?", this many days after '
            "their letter went. Empty: the site's default."
        ),
        error_messages={
            "required": _DAYS_MESSAGE,
            "invalid": _DAYS_MESSAGE,
            "min_value": _DAYS_MESSAGE,
            "max_value": _DAYS_MESSAGE,
        },
    )
    reply_address = forms.ChoiceField(
        label=gettext_lazy("Where letters we send carry their reply address"),
        required=False,
        choices=ReplyAddress.choices,
        initial=ReplyAddress.REPLY_TO,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Each letter sent by the platform has its own reply address: a recipient's answer sent there "
            "is kept with the letter and counted as a reply. Reply-To always names the supporter."
        ),
        error_messages={
            "required": gettext_lazy("Choose one of the ways listed."),
            "invalid_choice": gettext_lazy("Choose one of the ways listed."),
        },
    )
    responsiveness_public = forms.BooleanField(
        label=gettext_lazy("Show how responsive recipients are on the campaign page"),
        required=False,
        help_text=gettext_lazy(
            "Per recipient: letters, replies and median days to a reply. Counts only, never who wrote or what."
        ),
    )

    def __init__(
        self,
        *args: Any,
        recipients: list[Recipient],
        groups: list[RecipientGroup],
        chosen: list[int],
        other_languages: list[str] | tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # The languages the campaign has a translation in: none may become the main one.
        self.other_languages = other_languages
        self.recipient_list = recipients
        self.groups = groups
        self.chosen = chosen
        self.fields["add_group"] = forms.TypedChoiceField(
            label=gettext_lazy("Add every member of a group"),
            required=False,
            coerce=int,
            choices=[("", "—"), *((g.pk, g.name) for g in groups)],
            help_text=gettext_lazy("They are added after the recipients ticked above."),
        )
        self.fields["recipient_group"] = forms.TypedChoiceField(
            label=gettext_lazy("Addressed to a recipient group"),
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", gettext_lazy("No group: the recipients ticked above")), *((g.pk, g.name) for g in groups)],
            help_text=gettext_lazy(
                "The group's members become the campaign's recipients (the ticked ones are then not used), "
                "and the campaign's page shows which members letters have reached, weighted by their vote."
            ),
            error_messages={"invalid_choice": gettext_lazy("Choose one of your organisation's groups.")},
        )
        self.fields["routing"] = forms.ChoiceField(
            label=gettext_lazy("Whom each supporter writes to"),
            required=False,
            choices=Routing.choices,
            widget=forms.RadioSelect,
            help_text=gettext_lazy(
                "Only for a campaign addressed to a group. The supporter's country decides; the letter form "
                "tells them whom their letter goes to and why."
            ),
            error_messages={"invalid_choice": gettext_lazy("Choose one of the ways listed.")},
        )
        self.fields["well_covered_at"] = forms.IntegerField(
            label=gettext_lazy("A member is well covered from this many letters"),
            required=False,
            min_value=0,
            max_value=1_000_000,
            initial=0,
            help_text=gettext_lazy(
                "For the last way above: once a member has this many letters, supporters from their country are "
                "also offered members nobody has reached yet. 0: when a member has at least twice as many "
                "letters as the middle member (the median) and at least one; so while most members have none, "
                "supporters spread out to them."
            ),
            error_messages={
                "invalid": gettext_lazy("Give a whole number, 0 or more."),
                "min_value": gettext_lazy("Give a whole number, 0 or more."),
                "max_value": gettext_lazy("Give a smaller number."),
            },
        )

    @property
    def recipient_choice(self) -> RecipientChoice:
        return RecipientChoice(self, self.recipient_list, self.chosen)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        ids, problems = chosen_recipients(self.data, self.recipient_list)
        for problem in problems:
            self.add_error(None, problem)
        group = cleaned.get("add_group")
        if group:
            own = {r.pk for r in self.recipient_list}
            members = [pk for pk in campaign_queries.group_member_ids(group) if pk in own]
            ids = list(dict.fromkeys([*ids, *members]))
        addressed_to = cleaned.get("recipient_group")
        if addressed_to:
            # The group's members are the recipients (the service sets them so too).
            ids = campaign_queries.group_member_ids(addressed_to)
            cleaned["routing"] = cleaned.get("routing") or Routing.OWN_COUNTRY
        else:
            cleaned["routing"] = Routing.EVERY
        cleaned["well_covered_at"] = cleaned.get("well_covered_at") or 0
        if len(ids) > limits.CAMPAIGN_RECIPIENTS.most:
            self.add_error(
                None, _("At most %(most)d recipients per campaign.") % {"most": limits.CAMPAIGN_RECIPIENTS.most}
            )
        self.chosen = ids
        cleaned["recipient_ids"] = tuple(ids)
        return cleaned

    def to_input(self) -> CampaignInput:
        data = self.cleaned_data
        return CampaignInput(
            slug=data["slug"],
            title=data["title"],
            summary=data["summary"],
            background=data["background"],
            deadline=data["deadline"],
            tags=data["tags"],
            language=data["language"],
            min_uniqueness=data["min_uniqueness"],
            posts_for_supporters=data["posts_for_supporters"],
            author_name=data["author_name"],
            author_role=data["author_role"],
            author_place=data["author_place"],
            subject=data["subject"],
            body=data["body"],
            prompts=data["prompts"],
            channels=tuple(data["channels"]),
            recipient_ids=data["recipient_ids"],
            recipient_group_id=data.get("recipient_group"),
            routing=data["routing"],
            well_covered_at=data["well_covered_at"],
            reply_ask_days=data["reply_ask_days"],
            reply_address=data["reply_address"] or ReplyAddress.REPLY_TO,
            responsiveness_public=data["responsiveness_public"],
        )


def campaign_initial(campaign: Campaign, template: Any) -> dict[str, Any]:
    return {
        "title": campaign.title,
        "slug": campaign.slug,
        "summary": campaign.summary,
        "background": campaign.background,
        "tags": ", ".join(str(t) for t in campaign.tags or []),
        "language": campaign.language,
        "deadline": campaign.deadline,
        "author_name": campaign.author_name,
        "author_role": campaign.author_role,
        "author_place": campaign.author_place,
        "min_uniqueness": campaign.min_uniqueness,
        "posts_for_supporters": campaign.posts_for_supporters,
        "recipient_group": campaign.recipient_group_id,
        "routing": campaign.routing,
        "well_covered_at": campaign.well_covered_at,
        "reply_ask_days": campaign.reply_ask_days,
        "reply_address": campaign.reply_address,
        "responsiveness_public": campaign.responsiveness_public,
        "subject": template.subject if template else "",
        "body": template.body if template else "",
        "prompts": "\n".join(str(p) for p in template.prompts or []) if template else "",
        "channels": [str(c) for c in template.channels] if template else [str(c) for c in CHANNEL_ORDER],
    }


class OpenLetterForm(_EditorForm):
    kind = "open_letter"
    has_tab_message = gettext_lazy(
        "The letter has a tab for %(language)s already. Remove that tab first, or keep the main language as it is."
    )
    summary = _long_text(
        1000, label=gettext_lazy("Summary"), rows=2, help_text=gettext_lazy("One or two sentences under the title.")
    )
    text = _open_letter_text()
    authors = MultiLineField(
        label=gettext_lazy("Authors"),
        required=False,
        max_length=limits.AUTHORS.most * 620,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line, in the order shown: name; role; place — e.g. Ana Ruiz; Mayor; Wendmouth."
        ),
    )

    def __init__(
        self,
        *args: Any,
        recipients: list[Recipient],
        groups: list[RecipientGroup],
        campaigns: list[Campaign],
        chosen: list[int],
        other_languages: list[str] | tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.recipient_list = recipients
        self.chosen = chosen
        self.other_languages = other_languages
        self.fields["recipient_group"] = forms.TypedChoiceField(
            label=gettext_lazy("Addressed to a recipient group"),
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", gettext_lazy("No group: the recipients ticked below")), *((g.pk, g.name) for g in groups)],
            help_text=gettext_lazy("A group's members are the addressees; the ticked recipients are then not used."),
        )
        self.fields["letter_campaign"] = forms.TypedChoiceField(
            label=gettext_lazy("Letter campaign for “Write your own letter”"),
            required=False,
            coerce=int,
            empty_value=None,
            choices=[("", "—"), *((c.pk, c.title) for c in campaigns)],
            help_text=gettext_lazy("Its composer starts from this letter's text when the campaign is live."),
        )

    @property
    def recipient_choice(self) -> RecipientChoice:
        return RecipientChoice(self, self.recipient_list, self.chosen)

    def clean_authors(self) -> tuple[AuthorInput, ...]:
        authors = []
        for line in split_lines(str(self.cleaned_data.get("authors") or "")):
            parts = [part.strip() for part in line.split(";")]
            if len(parts) > 3 or any(len(part) > 200 for part in parts):
                raise forms.ValidationError(
                    _("“%(line)s”: give name; role; place, each under 200 characters.") % {"line": line[:80]}
                )
            parts += [""] * (3 - len(parts))
            authors.append(AuthorInput(name=parts[0], role=parts[1], place=parts[2]))
        if len(authors) > limits.AUTHORS.most:
            raise forms.ValidationError(_("At most %(most)d authors, please.") % {"most": limits.AUTHORS.most})
        if any(not a.name for a in authors):
            raise forms.ValidationError(_("Each line needs a name first."))
        return tuple(authors)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        ids, problems = chosen_recipients(self.data, self.recipient_list)
        for problem in problems:
            self.add_error(None, problem)
        if len(ids) > limits.OPEN_LETTER_RECIPIENTS.most:
            self.add_error(
                None, _("At most %(most)d recipients per open letter.") % {"most": limits.OPEN_LETTER_RECIPIENTS.most}
            )
        self.chosen = ids
        cleaned["recipient_ids"] = tuple(ids)
        return cleaned

    def to_input(self) -> OpenLetterInput:
        data = self.cleaned_data
        return OpenLetterInput(
            slug=data["slug"],
            title=data["title"],
            summary=data["summary"],
            text=data["text"],
            deadline=data["deadline"],
            tags=data["tags"],
            language=data["language"],
            authors=data["authors"],
            recipient_ids=data["recipient_ids"],
            recipient_group_id=data.get("recipient_group"),
            letter_campaign_id=data.get("letter_campaign"),
        )


def open_letter_initial(letter: Any) -> dict[str, Any]:
    authors = [a for a in letter.authors or [] if isinstance(a, dict)]
    return {
        "title": letter.title,
        "slug": letter.slug,
        "summary": letter.summary,
        "text": letter.text,
        "tags": ", ".join(str(t) for t in letter.tags or []),
        "language": letter.language,
        "deadline": letter.deadline,
        "authors": "\n".join(
            "; ".join(str(a.get(k) or "") for k in ("name", "role", "place")).rstrip("; ") for a in authors
        ),
        "recipient_group": letter.recipient_group_id,
        "letter_campaign": letter.letter_campaign_id,
    }


class TranslationForm(_LetterTextChecks):
    """One more language's text of a campaign: its editor tab (``campaign_languages.py``).

    The limits and checks are the main language's; what is left empty (summary,
    background, prompts) the pages take from the main language.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = gettext_lazy(
            "Supporters writing in this language start from this text. Placeholders as listed below."
        )
        self.fields["prompts"].help_text = gettext_lazy(
            "One question per line. Left empty, the main language's prompts are shown."
        )

    summary = _translated_summary()
    background = _long_text(
        MAX_LENGTHS["campaign.background"],
        label=gettext_lazy("Background"),
        rows=10,
        help_text=MARKDOWN_HELP,
    )

    def to_input(self) -> TranslationInput:
        data = self.cleaned_data
        return TranslationInput(
            subject=data["subject"],
            body=data["body"],
            prompts=data["prompts"],
            summary=data["summary"],
            background=data["background"],
        )


def translation_initial(source: Any, *, summary: str, background: str) -> dict[str, Any]:
    """A language tab's fields from a translation, or from the main language's template
    (``source``, with the campaign's summary and background) for a language not saved yet."""
    return {
        "subject": source.subject if source else "",
        "body": source.body if source else "",
        "prompts": "\n".join(str(p) for p in source.prompts or []) if source else "",
        "summary": summary,
        "background": background,
    }


class OpenLetterTranslationForm(forms.Form):
    """One more language's title, summary and text of an open letter: its editor tab
    (``open_letter_languages.py``), with the main language's limits."""

    title = _text(MAX_LENGTHS["open_letter.title"], label=gettext_lazy("Title"), required=True)
    summary = _translated_summary()
    text = _open_letter_text()

    def to_input(self) -> LetterTranslationInput:
        data = self.cleaned_data
        return LetterTranslationInput(title=data["title"], summary=data["summary"], text=data["text"])


class AddLanguageForm(forms.Form):
    """The editor's "Add a language" form: a language code the campaign has no text in yet."""

    main_message = gettext_lazy("%(language)s is the campaign's main language: its text is on the first tab.")
    taken_message = gettext_lazy("The campaign already has a tab for %(language)s.")

    language = forms.CharField(
        label=gettext_lazy("Language code"),
        max_length=10,
        help_text=gettext_lazy("Such as fr, de or pt-BR. You write the text in that language next."),
        error_messages={**_too_long(10), "required": gettext_lazy("Give a language code, such as fr.")},
    )

    def __init__(self, *args: Any, main_language: str, languages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.main_language = main_language
        self.languages = languages

    def clean_language(self) -> str:
        language = str(self.cleaned_data.get("language") or "").strip()
        if LANGUAGE.fullmatch(language) is None:
            raise forms.ValidationError(_("Give a language code such as fr, de or pt-BR."))
        if language.casefold() == self.main_language.casefold():
            raise forms.ValidationError(str(self.main_message) % {"language": self.main_language})
        if language.casefold() in {code.casefold() for code in self.languages}:
            raise forms.ValidationError(str(self.taken_message) % {"language": language})
        if len(self.languages) >= limits.TRANSLATIONS.most:
            raise forms.ValidationError(
                _("At most %(most)d languages besides the main one, please.") % {"most": limits.TRANSLATIONS.most}
            )
        return language


class AddLetterLanguageForm(AddLanguageForm):
    """ "Add a language" for an open letter."""

    main_message = gettext_lazy("%(language)s is the letter's main language: its text is on the first tab.")
    taken_message = gettext_lazy("The letter already has a tab for %(language)s.")
