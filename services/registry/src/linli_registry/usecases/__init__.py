"""Registry use cases, one module per topic: every write is a `@write` or opens a UnitOfWork."""
