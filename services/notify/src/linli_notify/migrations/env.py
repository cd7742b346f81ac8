"""Alembic environment of the notify database."""

from sqlmodel import SQLModel

from linli_notify import models  # noqa: F401 - registers the tables on SQLModel.metadata
from linli_shared.migrations import run_env

run_env(SQLModel.metadata)
