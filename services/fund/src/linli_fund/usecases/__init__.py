"""The fund's use cases, one module per topic: every write is an `@write` use case or opens a
UnitOfWork; nothing else commits."""
