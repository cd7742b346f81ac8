"""Linli's shared event contracts and plumbing: one place for what all services need."""
