"""Prometheus metrics shared by every service, labelled by service name."""

from prometheus_client import Counter

OUTBOX_PUBLISHED = Counter("linli_outbox_published_total", "Outbox rows published to JetStream.", ["service"])
OUTBOX_FAILURES = Counter(
    "linli_outbox_publish_failures_total", "Outbox publish attempts that failed.", ["service"]
)
INBOX_APPLIED = Counter("linli_inbox_applied_total", "Events applied by a consumer.", ["consumer"])
INBOX_DUPLICATES = Counter(
    "linli_inbox_duplicates_total", "Redelivered events ignored by the inbox.", ["consumer"]
)
DEAD_LETTERED = Counter("linli_dead_lettered_total", "Events sent to the dead-letter subject.", ["consumer"])
