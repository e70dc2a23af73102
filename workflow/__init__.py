"""The domain: assessments, their procedure engine and the services over them (no HTTP here)."""
