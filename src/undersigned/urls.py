from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dashboard/", include("undersigned.dashboard.urls")),
    path("open-letters/", include("undersigned.public.open_letter_urls")),
    # allauth.urls with its two-factor base views imported on first use (account_urls.py)
    path("accounts/", include("undersigned.account_urls")),
    path("", include("undersigned.core.urls")),
    path("", include("undersigned.public.urls")),
]
