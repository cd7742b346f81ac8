"""A stand-in consumer effect for plumbing tests."""

from sqlmodel import Field, SQLModel


class AppliedEffect(SQLModel, table=True):
    """Deliberately not unique on event_id, so a double apply would show as two rows."""

    __tablename__ = "test_applied_effect"
    id: int | None = Field(default=None, primary_key=True)
    event_id: str
