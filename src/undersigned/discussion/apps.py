from django.apps import AppConfig


class DiscussionConfig(AppConfig):
    name = "undersigned.discussion"
    label = "discussion"
    verbose_name = "Discussion"
