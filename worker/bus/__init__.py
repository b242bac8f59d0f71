"""The message bus and what it rests on: commands, the unit-of-work port, outcomes,
the failure policy."""
