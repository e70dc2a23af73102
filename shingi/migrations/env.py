"""Alembic environment: runs on the connection that shingi.migrations.upgrade hands in (or the URL)."""

from alembic import context
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

import notifications.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import workflow.models
import workflow.records  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several instances may start at once: only one migrates, the others wait for it.
            connection.execute(text("SELECT pg_advisory_xact_lock(7261100)"))
        context.run_migrations()


connection = config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    run_migrations(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: no connection handed in and no sqlalchemy.url set")
    engine = create_engine(url)
    with engine.connect() as fresh:
        run_migrations(fresh)
        fresh.commit()
