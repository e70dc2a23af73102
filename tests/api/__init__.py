"""API tests: HTTP through FastAPI's TestClient (the JSON API and the server-rendered pages)."""
