"""Alembic environment of the fund database."""

from sqlmodel import SQLModel

from linli_fund import models  # noqa: F401 - registers the tables on SQLModel.metadata
from linli_shared.migrations import run_env

run_env(SQLModel.metadata)
