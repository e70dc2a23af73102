"""Integration tests: the services on a real database (SQLite, or PostgreSQL), no HTTP."""
