"""Notify's use cases, one module per topic; each write opens its transaction through the unit of work."""
