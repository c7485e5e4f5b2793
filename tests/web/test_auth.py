"""Sign up, sign in, sign out, password reset, and where `/` leads."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from coffer.tenancy.models import Membership, User
from tests import factories

pytestmark = pytest.mark.django_db


def test_sign_up_creates_a_personal_space_signs_in_and_shows_the_empty_dashboard(client):
    response = client.post("/accounts/signup/", {"name": "Carol", "email": "Carol@Example.test",
                                                 "password": "a-long-enough-passphrase"}, follow=True)

    user = User.objects.get(email="carol@example.test")
    membership = Membership.objects.select_related("tenant").get(user=user)
    assert membership.role == "owner" and membership.tenant.is_personal
    assert response.redirect_chain[-1][0] == f"/t/{membership.tenant.slug}/"
    assert response.wsgi_request.user == user
    assert b"Create your first account" in response.content
    assert b"import a statement" in response.content


def test_sign_up_with_a_taken_email_shows_the_error_next_to_the_email_field(client):
    factories.user("taken@example.test")

    response = client.post("/accounts/signup/", {"email": "taken@example.test", "password": "a-long-enough-passphrase"})

    assert response.status_code == 422
    assert response.context["form"].errors["email"] == ["Already registered."]
    assert re.search(rb'id="id_email_error"[^>]*><li>Already registered.', response.content)
    assert User.objects.filter(email="taken@example.test").count() == 1
    assert "_auth_user_id" not in client.session


def test_sign_up_with_a_weak_password_shows_why_next_to_the_password_field(client):
    response = client.post("/accounts/signup/", {"email": "dan@example.test", "password": "short"})

    assert response.status_code == 422
    assert "too short" in response.context["form"].errors["password"][0]
    assert b'aria-invalid="true"' in response.content
    assert not User.objects.filter(email="dan@example.test").exists()


def test_sign_up_without_an_email_is_refused_with_a_field_error(client):
    response = client.post("/accounts/signup/", {"email": "", "password": "a-long-enough-passphrase"})

    assert response.status_code == 422
    assert response.context["form"].errors["email"] == ["This field is required."]
    assert User.objects.count() == 0


def test_root_sends_a_visitor_to_sign_in_and_a_person_to_their_first_space(client):
    assert client.get("/")["Location"].startswith("/accounts/login/")

    person = factories.user("erin@example.test")
    client.force_login(person)
    slug = Membership.objects.get(user=person).tenant.slug
    assert client.get("/")["Location"] == f"/t/{slug}/"


def test_sign_in_uses_the_throttled_form_and_lands_on_the_dashboard(client):
    person = factories.user("frank@example.test")
    slug = Membership.objects.get(user=person).tenant.slug

    wrong = client.post("/accounts/login/", {"username": "frank@example.test", "password": "nope-nope-nope"})
    assert wrong.status_code == 200
    assert b"Email or password is wrong" in wrong.content

    right = client.post("/accounts/login/", {"username": "frank@example.test", "password": factories.PASSWORD}, follow=True)
    assert right.redirect_chain[-1][0] == f"/t/{slug}/"


def test_sign_out_ends_the_session(client):
    person = factories.user()
    client.force_login(person)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    factories.user("gina@example.test")

    page = client.get("/accounts/password_reset/")
    assert page.status_code == 200 and b"Reset your password" in page.content
    response = client.post("/accounts/password_reset/", {"email": "gina@example.test"}, follow=True)
    assert b"Check your email" in response.content

    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"}, follow=True)
    assert b"Password changed" in done.content
    assert User.objects.get(email="gina@example.test").check_password("a-brand-new-passphrase")


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.test"}, follow=True)

    assert b"Check your email" in response.content
    assert mail.outbox == []


def test_forms_refuse_a_post_without_the_csrf_token(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.people["admin"])

    response = client.post(org.url("accounts/new/"), {"name": "Sneaky", "currency": "EUR", "type": "checking",
                                                       "opening_balance": "0"})

    assert response.status_code == 403
    assert not org.tenant.accounts.exists()


def test_htmx_requests_carry_the_csrf_token_in_a_header(org):
    page = org.client("member").get(org.url())

    assert re.search(rb"""<body hx-headers='\{"X-CSRFToken": "\w{32,}"\}'>""", page.content)
