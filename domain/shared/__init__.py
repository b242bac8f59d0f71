"""The shared kernel: what every context's model is built from (entities, value objects,
aggregate roots, events, the error classes, money, repository ports)."""
