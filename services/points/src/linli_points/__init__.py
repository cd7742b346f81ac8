"""Linli volunteer points, the love supermarket and the wish wall."""
