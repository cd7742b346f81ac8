"""Linli notifications."""
