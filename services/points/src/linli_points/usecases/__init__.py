"""The points service's use cases, one module per topic; every write goes through a unit of work."""
