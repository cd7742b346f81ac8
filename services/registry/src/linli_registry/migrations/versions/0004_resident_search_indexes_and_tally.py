"""resident search indexes and the statistics rollup

Searches page by id within a scope and a status: (district, community, status, id) for a
community's lists, (district, status, id) for a district's, so no plan walks the primary key and
discards rows; on PostgreSQL a trigram index on full_name serves name searches (LIKE '%…%'). The
single-column indexes these make redundant (district, community, status, full_name) go. Trigrams
cannot find a name searched with one or two characters (most Chinese given names, many whole
names): a GIN index of each name's one- and two-character pieces does. Each tag has a partial
index, so a list of a rare tag in a district reads only its residents. The age counts' boundary
years are read through (birth_date, status, district, community, grid_code).
ResidentTally and ResidentBirthTally hold the statistics, filled here from the residents on record;
the age counts read the birth years before a year from the birth-year index alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from linli_registry.tally import TAGS, refill

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REDUNDANT = ("district", "community", "status", "full_name")
SCOPE_INDEXES = {
    "ix_resident_scope": ["district", "community", "status", "id"],
    "ix_resident_district_status": ["district", "status", "id"],
    "ix_resident_birth": ["birth_date", "status", "district", "community", "grid_code"],
}


def place_columns() -> list[sa.Column[str]]:
    return [
        sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False)
        for name in ("district", "community", "grid_code")
    ]


def count_column(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "residenttally",
        *place_columns(),
        *(count_column(name) for name in ("population", *TAGS)),
        sa.PrimaryKeyConstraint("district", "community", "grid_code"),
    )
    op.create_table(
        "residentbirthtally",
        *place_columns(),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        count_column("population"),
        sa.PrimaryKeyConstraint("district", "community", "grid_code", "birth_year"),
    )
    op.create_index(
        "ix_residentbirthtally_year",
        "residentbirthtally",
        ["birth_year", "district", "community", "grid_code"],
        postgresql_include=["population"],
    )
    for name, columns in SCOPE_INDEXES.items():
        op.create_index(name, "resident", columns)
    for column in REDUNDANT:
        op.drop_index(f"ix_resident_{column}", table_name="resident")
    if op.get_bind().dialect.name == "postgresql":
        create_postgresql_indexes()
    refill(op.get_bind())


NAME_GRAMS = """
CREATE FUNCTION registry_name_grams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(name, i, n)), '{}')
    FROM generate_series(1, 2) AS n, generate_series(1, length(name) - n + 1) AS i
$$"""


def create_postgresql_indexes() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_resident_full_name_trgm ON resident USING gin (full_name gin_trgm_ops)")
    op.execute(NAME_GRAMS)
    op.execute("CREATE INDEX ix_resident_name_grams ON resident USING gin (registry_name_grams(full_name))")
    for tag in TAGS:
        op.execute(
            f"CREATE INDEX ix_resident_tag_{tag} ON resident (district, community, status, id) "
            f"WHERE {tag} IS TRUE"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for tag in TAGS:
            op.execute(f"DROP INDEX ix_resident_tag_{tag}")
        op.execute("DROP INDEX ix_resident_name_grams")
        op.execute("DROP FUNCTION registry_name_grams(text)")
        op.execute("DROP INDEX ix_resident_full_name_trgm")
    for column in REDUNDANT:
        op.create_index(f"ix_resident_{column}", "resident", [column])
    for name in SCOPE_INDEXES:
        op.drop_index(name, table_name="resident")
    op.drop_table("residentbirthtally")
    op.drop_table("residenttally")
