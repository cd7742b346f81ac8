"""Linli love fund."""
