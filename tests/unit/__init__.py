"""Unit tests: no database, no HTTP — pure functions, tables, files and the code's own structure."""
