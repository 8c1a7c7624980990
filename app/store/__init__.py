"""Local catalog cache: SQLite through SQLAlchemy 2 Core, alembic migrations, FTS5."""
