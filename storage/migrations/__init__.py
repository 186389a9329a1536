"""Alembic migrations for promobot's tables (applied by storage.db.init_db)."""
