"""Alembic environment of the registry database."""

from sqlmodel import SQLModel

from linli_registry import models  # noqa: F401 - registers the tables on SQLModel.metadata
from linli_shared.migrations import run_env

run_env(SQLModel.metadata)
