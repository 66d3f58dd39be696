from tests.fixtures.api import Api


def test_tenant_customer_token_roundtrip(api: Api) -> None:
    tenant = api.tenant()
    customer = api.customer(tenant, email="a@example.com")
    me = api.ok("GET", "/v1/me", api.token(tenant, customer["id"]))
    assert me["id"] == customer["id"]
    assert me["email"] == "a@example.com"
