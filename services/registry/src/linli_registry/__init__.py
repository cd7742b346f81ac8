"""Linli resident registry."""
