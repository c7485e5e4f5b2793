"""/api/v1/tenants/{tenant}/fees: expected fees, the fee check and the fee report, plus default fee rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from coffer.audit.models import AuditEntry
from coffer.ledger import rule_services
from coffer.ledger.models import Category, ExpectedFee, Rule, Transaction
from tests import factories
from tests.querycount import count_queries


def url(tenant, *rest) -> str:
    return "/".join([f"/api/v1/tenants/{tenant.slug}/fees", *map(str, rest)])


def category(tenant, name) -> Category:
    return Category.objects.get(tenant=tenant, name=name)


def state(tenant) -> tuple:
    return (sorted(ExpectedFee.objects.filter(tenant=tenant).values_list("pk", "name", "amount", "frequency")),
            AuditEntry.objects.filter(tenant=tenant).count())


@pytest.fixture
def team(transactional_db):
    owner, admin, member, viewer = (factories.user() for _ in range(4))
    tenant = factories.organization(owner, admin=[admin], member=[member], viewer=[viewer])
    account = factories.account(tenant, name="Checking", currency="EUR")
    return {"tenant": tenant, "owner": owner, "admin": admin, "member": member, "viewer": viewer, "account": account}


def test_a_new_tenant_gets_the_default_fee_rules_and_they_recognise_fees(team):
    tenant, account = team["tenant"], team["account"]
    assert Rule.objects.filter(tenant=tenant).count() == len(rule_services.DEFAULT_FEE_RULES)
    assert AuditEntry.objects.filter(tenant=tenant, action="rule.seed").count() == 1
    fee = factories.transaction(account, amount="-4.50", description="MONTHLY ACCOUNT FEE")
    fx = factories.transaction(account, amount="-1.20", description="Foreign transaction fee USD")
    coffee = factories.transaction(account, amount="-3.00", description="Coffee")
    rule_services.rule_apply(tenant=tenant, actor=team["owner"])
    names = dict(Transaction.objects.filter(tenant=tenant).values_list("pk", "category__name"))
    assert (names[fee.pk], names[fx.pk], names[coffee.pk]) == ("Account fees", "Foreign exchange fees", None)


def test_admins_and_owners_manage_expected_fees_members_and_viewers_do_not(client_api, team):
    tenant, account = team["tenant"], team["account"]
    body = {"account_id": str(account.pk), "name": "Account fee", "amount": "4.50", "frequency": "monthly"}
    for role in ("member", "viewer"):
        before = state(tenant)
        refused = client_api.post(url(tenant, "expected"), headers=factories.auth_headers(team[role]), json=body)
        assert refused.status_code == 403, refused.text
        assert state(tenant) == before
    created = client_api.post(url(tenant, "expected"), headers=factories.auth_headers(team["admin"]), json=body)
    assert created.status_code == 201, created.text
    fee_id = created.json()["id"]
    assert (created.json()["amount"], created.json()["account_name"], created.json()["currency"]) == (
        "4.50", "Checking", "EUR")
    assert AuditEntry.objects.filter(tenant=tenant, action="expected_fee.create").count() == 1
    viewer = factories.auth_headers(team["viewer"])
    assert client_api.get(url(tenant, "expected", fee_id), headers=viewer).status_code == 200
    assert client_api.patch(url(tenant, "expected", fee_id), headers=viewer, json={"amount": "5"}).status_code == 403
    assert client_api.delete(url(tenant, "expected", fee_id), headers=viewer).status_code == 403
    changed = client_api.patch(url(tenant, "expected", fee_id), headers=factories.auth_headers(team["owner"]),
                               json={"amount": "5.00", "frequency": "quarterly", "day_tolerance": 3})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["amount"], changed.json()["frequency"], changed.json()["day_tolerance"]) == (
        "5.00", "quarterly", 3)
    deleted = client_api.delete(url(tenant, "expected", fee_id), headers=factories.auth_headers(team["owner"]))
    assert deleted.status_code == 204
    assert not ExpectedFee.objects.filter(tenant=tenant).exists()
    assert AuditEntry.objects.filter(tenant=tenant, action__startswith="expected_fee.").count() == 3


@pytest.mark.parametrize("bad, field", [
    ({"amount": "0"}, "amount"), ({"amount": "-3"}, "amount"), ({"name": "  "}, "name"),
    ({"frequency": "weekly"}, "frequency"), ({"day_tolerance": 40}, "day_tolerance"),
    ({"account_id": "01900000-0000-7000-8000-000000000000"}, "account_id"),
])
def test_a_bad_expected_fee_is_refused_and_nothing_is_written(client_api, team, bad, field):
    tenant = team["tenant"]
    body = {"account_id": str(team["account"].pk), "name": "Account fee", "amount": "4.50", **bad}
    before = state(tenant)
    refused = client_api.post(url(tenant, "expected"), headers=factories.auth_headers(team["admin"]), json=body)
    assert refused.status_code == 422, refused.text
    assert field in refused.text
    assert state(tenant) == before


def test_another_tenants_expected_fees_and_accounts_are_not_found(client_api, team):
    other_owner = factories.user()
    other = factories.organization(other_owner)
    other_account = factories.account(other, name="Theirs")
    factories.transaction(other_account, amount="-9.99", booked_on=dt.date(2024, 1, 5),
                          category_id=category(other, "Account fees").pk)
    theirs = ExpectedFee.objects.create(tenant=other, account=other_account, name="Secret fee", amount=Decimal("9.99"))
    headers = factories.auth_headers(team["owner"])
    tenant = team["tenant"]
    for method, path in (("get", ("expected", theirs.pk)), ("patch", ("expected", theirs.pk)),
                         ("delete", ("expected", theirs.pk))):
        response = getattr(client_api, method)(url(tenant, *path), headers=headers,
                                               **({"json": {"amount": "1"}} if method == "patch" else {}))
        assert response.status_code == 404, response.text
        assert "Secret" not in response.text
    assert client_api.get(url(tenant, "check"), headers=headers, params={"fee_id": str(theirs.pk)}).status_code == 404
    refused = client_api.post(url(tenant, "expected"), headers=headers,
                              json={"account_id": str(other_account.pk), "name": "x", "amount": "1"})
    assert refused.status_code == 422
    report = client_api.get(url(tenant, "report"), headers=headers,
                            params={"date_from": "2024-01-01", "date_to": "2024-12-31"})
    assert report.json()["items"] == []
    # and someone who is not a member of the tenant gets 404
    assert client_api.get(url(other, "expected"), headers=headers).status_code == 404
    assert ExpectedFee.objects.get(pk=theirs.pk).amount == Decimal("9.99")


def test_the_check_flags_missing_and_differing_fees_at_period_boundaries(client_api, team):
    tenant, account = team["tenant"], team["account"]
    fees_cat = category(tenant, "Account fees")
    ExpectedFee.objects.create(tenant=tenant, account=account, name="Account fee", amount=Decimal("4.50"))
    # January: on its last day, in the category -> ok. February: nothing (the 1 March fee is March's) -> missing.
    factories.transaction(account, amount="-4.50", booked_on=dt.date(2024, 1, 31), category_id=fees_cat.pk)
    factories.transaction(account, amount="-4.50", booked_on=dt.date(2024, 3, 1), description="Account fee March")
    # March also has a second charge -> differs (9.00). April: a different amount -> differs.
    factories.transaction(account, amount="-4.50", booked_on=dt.date(2024, 3, 31), category_id=fees_cat.pk)
    factories.transaction(account, amount="-6.00", booked_on=dt.date(2024, 4, 1), category_id=fees_cat.pk)
    # Not fees: another category, money in, another account.
    factories.transaction(account, amount="-4.50", booked_on=dt.date(2024, 2, 10),
                          category_id=category(tenant, "Groceries").pk)
    factories.transaction(account, amount="4.50", booked_on=dt.date(2024, 2, 11), category_id=fees_cat.pk)
    savings = factories.account(tenant, name="Savings")
    factories.transaction(savings, amount="-4.50", booked_on=dt.date(2024, 2, 12), category_id=fees_cat.pk)
    response = client_api.get(url(tenant, "check"), headers=factories.auth_headers(team["viewer"]),
                              params={"date_from": "2024-01-15", "date_to": "2024-04-30"})
    assert response.status_code == 200, response.text
    got = [(item["period_start"], item["status"], item["charged"], item["count"]) for item in response.json()["items"]]
    assert got == [
        ("2024-01-01", "ok", "4.50", 1), ("2024-02-01", "missing", "0.00", 0),
        ("2024-03-01", "differs", "9.00", 2), ("2024-04-01", "differs", "6.00", 1),
    ]


def test_day_tolerance_lets_a_late_fee_count_for_its_period(client_api, team):
    tenant, account = team["tenant"], team["account"]
    fee = ExpectedFee.objects.create(tenant=tenant, account=account, name="Card fee", amount=Decimal("12"),
                                     frequency="quarterly", day_tolerance=2)
    factories.transaction(account, amount="-12.00", booked_on=dt.date(2024, 4, 2), description="CARD FEE Q1")
    response = client_api.get(url(tenant, "check"), headers=factories.auth_headers(team["viewer"]),
                              params={"date_from": "2024-01-01", "date_to": "2024-03-31", "fee_id": str(fee.pk)})
    assert [(i["period_end"], i["status"]) for i in response.json()["items"]] == [("2024-03-31", "ok")]
    ExpectedFee.objects.filter(pk=fee.pk).update(day_tolerance=1)
    response = client_api.get(url(tenant, "check"), headers=factories.auth_headers(team["viewer"]),
                              params={"date_from": "2024-01-01", "date_to": "2024-03-31", "fee_id": str(fee.pk)})
    assert [i["status"] for i in response.json()["items"]] == ["missing"]


def test_the_fee_report_totals_fees_per_account_and_month_in_bounded_queries(client_api, team):
    tenant, account = team["tenant"], team["account"]
    savings = factories.account(tenant, name="Savings", currency="GBP")
    fee_rows = [
        (account, "-4.50", dt.date(2024, 1, 1), "Account fees"), (account, "-1.25", dt.date(2024, 1, 31), "Card fees"),
        (account, "-2.00", dt.date(2024, 2, 29), "Late fees"), (account, "0.50", dt.date(2024, 2, 10), "Card fees"),
        (savings, "-3.00", dt.date(2024, 2, 1), "Fees & charges"), (account, "-7.00", dt.date(2023, 12, 31), "Late fees"),
        (account, "-9.00", dt.date(2024, 1, 5), "Groceries"),
    ]
    for acc, amount, day, name in fee_rows:
        factories.transaction(acc, amount=amount, booked_on=day, category_id=category(tenant, name).pk)
    expected: dict = {}
    for acc, amount, day, name in fee_rows:
        if name != "Groceries" and dt.date(2024, 1, 1) <= day <= dt.date(2024, 2, 29):
            key = (acc.name, day.strftime("%Y-%m-01"))
            expected[key] = expected.get(key, Decimal("0")) - Decimal(amount)
    with count_queries() as queries:
        response = client_api.get(url(tenant, "report"), headers=factories.auth_headers(team["viewer"]),
                                  params={"date_from": "2024-01-01", "date_to": "2024-02-29"})
    assert response.status_code == 200, response.text
    got = {(i["account_name"], i["month"]): Decimal(i["total"]) for i in response.json()["items"]}
    assert got == expected
    assert [i["currency"] for i in response.json()["items"]] == ["EUR", "EUR", "GBP"]
    assert len(queries) <= 8
    refused = client_api.get(url(tenant, "report"), headers=factories.auth_headers(team["viewer"]),
                             params={"date_from": "2000-01-01", "date_to": "2024-02-29"})
    assert refused.status_code == 422


def test_the_check_runs_a_fixed_number_of_queries(client_api, team):
    tenant = team["tenant"]
    for index in range(6):
        acc = factories.account(tenant, name=f"Acc {index}")
        ExpectedFee.objects.create(tenant=tenant, account=acc, name=f"Fee {index}", amount=Decimal("1"))
        factories.transaction(acc, amount="-1", booked_on=dt.date(2024, 1, 3), description=f"Fee {index}")
    with count_queries() as queries:
        response = client_api.get(url(tenant, "check"), headers=factories.auth_headers(team["viewer"]),
                                  params={"date_from": "2024-01-01", "date_to": "2024-06-30"})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 36
    assert sum(item["status"] == "ok" for item in response.json()["items"]) == 6
    assert len(queries) <= 10


def test_the_fee_report_exports_as_csv_and_xlsx_with_names_as_text(client_api, team):
    import io

    import openpyxl

    tenant = team["tenant"]
    account = factories.account(tenant, name="=HYPERLINK(1)")
    factories.transaction(account, amount="-4.50", booked_on=dt.date(2024, 1, 3),
                          category_id=category(tenant, "Account fees").pk)
    factories.transaction(account, amount="-1.25", booked_on=dt.date(2024, 1, 9),
                          category_id=category(tenant, "Card fees").pk)
    headers = factories.auth_headers(team["viewer"])
    params = {"date_from": "2024-01-01", "date_to": "2024-01-31"}
    csv_file = client_api.get(url(tenant, "report", "export"), headers=headers, params=params)
    assert csv_file.status_code == 200, csv_file.text
    assert csv_file.headers["content-type"].startswith("text/csv")
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines == ["Account,Currency,Month,Fees,Transactions", "'=HYPERLINK(1),EUR,2024-01-01,5.75,2"]
    xlsx = client_api.get(url(tenant, "report", "export"), headers=headers, params={**params, "format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Fees"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "=HYPERLINK(1)" and rows[1][3] == 5.75 and rows[1][4] == 2
    assert client_api.get(url(tenant, "report", "export"), headers=headers,
                          params={**params, "format": "pdf"}).status_code == 422
