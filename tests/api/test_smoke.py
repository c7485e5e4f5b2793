def test_healthz_answers_ok(client_api):
    response = client_api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_docs_are_served_under_api(client_api):
    assert client_api.get("/api/docs").status_code == 200
    assert client_api.get("/api/openapi.json").json()["info"]["title"] == "Coffer API"


def test_unknown_api_path_is_a_problem_json_404(client_api):
    response = client_api.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
