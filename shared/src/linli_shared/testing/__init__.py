"""Test fixtures shared by every service: real NATS and PostgreSQL, found or started."""
