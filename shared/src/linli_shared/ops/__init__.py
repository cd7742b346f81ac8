"""What an operator asks of a running Linli: health, lag, outbox backlog, dead letters (`linli status`,
`linli outbox`, `linli dlq …`), and the same figures as Prometheus gauges on each service."""
