"""One module per channel: how a letter leaves the platform (email, mailto, web_form, post)."""
