"""A small OpenID Connect provider for tests: allauth's ``idp.oidc`` app in a Django
project of its own, run by ``tests/discussion/test_openid_connect.py`` as a separate
server on 127.0.0.1, so a sign-in goes through real HTTP without any network."""
