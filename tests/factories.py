"""Fictional civic data for tests: an organisation, its campaign, recipients and letters."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.db import transaction

from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign, CampaignRecipient, LetterTemplate, Recipient
from undersigned.delivery.printing import PrintableLetter
from undersigned.letters import tallies as letter_tallies
from undersigned.letters.models import Letter
from undersigned.organisations.models import Membership, Organisation, Role
from undersigned.supporters.models import Supporter


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"friends-of-the-river-{n}")
    name = "Friends of the River Wend"
    short_name = "Friends of the Wend"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ORGANISER


class RecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recipient

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Councillor Rowan Ashby {n}")
    role = "Chair of the Planning Committee"
    organisation_name = "Wendmouth Borough Council"
    email = factory.Sequence(lambda n: f"chair{n}@council.example")
    web_form_url = "https://council.example/contact"
    postal_address = "Town Hall\n1 Market Square\nWendmouth\nWM1 1AA"
    country = "GB"
    language = "en"


TEMPLATE_BODY = (
    "Dear {{ recipient.name }},\n\n"
    "I live in {{ supporter.town }} and I am writing about the plan to close the riverside path.\n\n"
    "The path is the only safe walking route between the estate and the school. Please keep it open.\n\n"
    "Yours sincerely,\n{{ supporter.name }}"
)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    slug = factory.Sequence(lambda n: f"keep-the-riverside-path-open-{n}")
    title = "Keep the riverside path open"
    summary = "The council plans to close the only safe walking route to Wendmouth Primary."
    background = "The **riverside path** links the Eastfield estate to the school."
    status = CampaignStatus.LIVE
    tags = ["walking", "schools"]
    language = "en"
    author_name = "Mina Okafor"
    author_role = "Parent governor"
    author_place = "Wendmouth"

    @factory.post_generation
    def with_template(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create or extracted is False:
            return
        LetterTemplate.objects.create(
            campaign=self,
            subject="Please keep the riverside path open",
            body=TEMPLATE_BODY,
            prompts=["How do you use the path?", "What would closing it mean for your family?"],
            channels=["mailto", "email", "web_form", "post"],
        )

    @factory.post_generation
    def recipients(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        people = extracted if extracted is not None else [RecipientFactory(organisation=self.organisation)]
        for position, recipient in enumerate(people):
            CampaignRecipient.objects.create(campaign=self, recipient=recipient, position=position)


class SupporterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supporter

    email = factory.Sequence(lambda n: f"supporter{n}@example.net")
    name = "Ana Ruiz"
    town = "Wendmouth"
    country = "GB"


class LetterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Letter

    campaign = factory.SubFactory(CampaignFactory)
    supporter = factory.SubFactory(SupporterFactory)
    sender_name = "Ana Ruiz"
    sender_town = "Wendmouth"
    sender_country = "GB"
    sender_address = "12 Eastfield Road\nWendmouth\nWM2 3BB"
    subject = "Please keep the riverside path open"
    body = factory.LazyAttribute(lambda o: TEMPLATE_BODY + "\n\nMy children walk this path every day.")

    @classmethod
    def _create(cls, model_class: type[Letter], *args: Any, **kwargs: Any) -> Letter:
        # A letter saved as the composer saves it: its campaign's tallies count it.
        with transaction.atomic():
            letter: Letter = super()._create(model_class, *args, **kwargs)
            letter_tallies.count_letters([letter])
        return letter


def printable_letter(
    name: str, *, language: str = "en", greeting: str = "Dear Councillor Rowan Ashby,"
) -> PrintableLetter:
    """A short letter from ``name`` as the PDF renderer takes it (plain data, no database)."""
    return PrintableLetter(
        sender_name=name,
        sender_address=["12 Eastfield Road", "Wendmouth"],
        recipient_name="Councillor Rowan Ashby",
        recipient_address=["Town Hall", "Wendmouth"],
        date_text="23 November 2026",
        place="Wendmouth",
        subject="Please keep the riverside path open",
        body=f"{greeting}\n\nPlease keep it open.",
        signature=name,
        language=language,
    )
