from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dashboard/", include("undersigned.dashboard.urls")),
    path("open-letters/", include("undersigned.public.open_letter_urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("undersigned.core.urls")),
    path("", include("undersigned.public.urls")),
]
