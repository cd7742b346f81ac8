"""announce place names: every district and community already on record, as place.named

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 11:30:00.000000

Districts and communities made before the registry announced names (place.named) were never
announced; this puts one place.named a place in the outbox, districts first, so fund and points
learn the names of the places already on record. The relay publishes them after the migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from linli_shared.clock import UtcDateTime, utc_now
from linli_shared.contracts.registry import PlaceNamed
from linli_shared.events import Envelope
from linli_shared.outbox import outbox_row

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTBOX = sa.table(
    "outbox_message",
    sa.column("event_id", sa.String),
    sa.column("subject", sa.String),
    sa.column("envelope", sa.Text),
    sa.column("created_at", UtcDateTime),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", UtcDateTime),
)


def upgrade() -> None:
    bind = op.get_bind()
    now = utc_now()
    rows = bind.execute(sa.text("SELECT code, name FROM district ORDER BY code"))
    districts: dict[str, str] = dict(rows.all())
    communities = bind.execute(sa.text("SELECT district, code, name FROM community ORDER BY district, code"))
    envelopes = [
        Envelope.wrap(
            PlaceNamed(district=code, district_name=name), district=code, community=None, occurred_at=now
        )
        for code, name in districts.items()
    ] + [
        Envelope.wrap(
            PlaceNamed(
                district=district, district_name=districts[district], community=code, community_name=name
            ),
            district=district,
            community=code,
            occurred_at=now,
        )
        for district, code, name in communities
    ]
    if envelopes:
        bind.execute(sa.insert(OUTBOX), [outbox_row(envelope) for envelope in envelopes])


def downgrade() -> None:
    pass  # announcements already relayed cannot be taken back; nothing here needs undoing
