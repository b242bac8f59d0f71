"""Dead letters: reading them, sending them back (one first, then a ramp), editing,
purging, and the ``dlq`` CLI."""
