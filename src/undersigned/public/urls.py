from django.urls import path

from . import discussion_views, hand_in_links, my_data, reply_views, update_links, views

app_name = "public"
urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.campaign_page, name="campaign"),
    path("c/<slug:slug>/write/", views.compose, name="compose"),
    path("c/<slug:slug>/my-link/", views.my_link, name="my_link"),
    path("l/<str:link>/", views.letter_page, name="letter"),
    path("l/<str:link>/address/", views.letter_address, name="letter_address"),
    path("l/<str:link>/letter.pdf", views.letter_pdf, name="letter_pdf"),
    path("l/<str:link>/send/", views.letter_send, name="letter_send"),
    path("l/<str:link>/post-for-me/", views.letter_post_for_me, name="letter_post_for_me"),
    path("r/<str:token>/", views.read_letter, name="read_letter"),
    # "My data" (public/my_data.py): the cookie its link sets is scoped to these paths.
    path("my-data/", my_data.my_data, name="my_data"),
    path("my-data/open/<str:token>/", my_data.my_data_open, name="my_data_open"),
    path("my-data/yours/", my_data.my_data_yours, name="my_data_yours"),
    path("my-data/yours.json", my_data.my_data_json, name="my_data_json"),
    path("my-data/erase/", my_data.my_data_erase, name="my_data_erase"),
    path("l/<str:link>/thanks/", views.thanks, name="thanks"),
    path("l/<str:link>/reply/", reply_views.letter_reply, name="letter_reply"),
    path("l/<str:link>/reply/<int:reply_id>/file/", reply_views.letter_reply_file, name="letter_reply_file"),
    path("l/<str:link>/answer/<str:answer>/", reply_views.reply_answer, name="reply_answer"),
    # Discussions (campaigns now, open letters later: they are addressed by the discussion's id).
    path("d/<int:discussion_id>/", discussion_views.discussion_page, name="discussion"),
    path("d/<int:discussion_id>/comments/", discussion_views.discussion_comments, name="discussion_comments"),
    # Built in the page as "{page_url}report/{id}/" (one reverse() per page, not per comment).
    path("d/<int:discussion_id>/report/<int:comment_id>/", discussion_views.report_comment, name="comment_report"),
    path("d/confirm/<str:token>/", discussion_views.confirm_comment, name="comment_confirm"),
    path("d/unsubscribe/<str:token>/", discussion_views.unsubscribe, name="comment_unsubscribe"),
    # A section's private links to its hand-in pack (public/hand_in_links.py).
    path("hand-in/<str:token>/pack.pdf", hand_in_links.pack_pdf, name="hand_in_pack_pdf"),
    path("hand-in/<str:token>/endorsers.csv", hand_in_links.pack_csv, name="hand_in_pack_csv"),
    # The unsubscribe link of an organisation's updates, one-click (public/update_links.py).
    path("u/<str:token>/", update_links.unsubscribe, name="update_unsubscribe"),
]
