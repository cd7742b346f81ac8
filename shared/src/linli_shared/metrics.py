"""Prometheus metrics shared by every service, labelled by service name."""

from prometheus_client import Counter, Gauge

OUTBOX_PUBLISHED = Counter("linli_outbox_published_total", "Outbox rows published to JetStream.", ["service"])
OUTBOX_FAILURES = Counter(
    "linli_outbox_publish_failures_total", "Outbox publish attempts that failed.", ["service"]
)
INBOX_APPLIED = Counter("linli_inbox_applied_total", "Events applied by a consumer.", ["consumer"])
INBOX_DUPLICATES = Counter(
    "linli_inbox_duplicates_total", "Redelivered events ignored by the inbox.", ["consumer"]
)
DEAD_LETTERED = Counter("linli_dead_lettered_total", "Events sent to the dead-letter subject.", ["consumer"])

# Set by linli_shared.ops.gauges in every process of a service (not only the relay's leader), so
# whichever replica Prometheus scrapes answers with the same figures `linli status` prints.
OUTBOX_BACKLOG = Gauge("linli_outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "linli_outbox_oldest_unsent_age_seconds",
    "Age of the oldest unpublished outbox row (0: none).",
    ["service"],
)
CONSUMER_PENDING = Gauge(
    "linli_consumer_pending", "Stream messages not yet delivered to the durable consumer.", ["consumer"]
)
CONSUMER_ACK_PENDING = Gauge(
    "linli_consumer_ack_pending", "Messages delivered to the consumer and not yet acknowledged.", ["consumer"]
)
DEAD_LETTERS = Gauge(
    "linli_dead_letters", "Dead letters held in LINLI_DEAD_LETTER for the consumer.", ["consumer"]
)
