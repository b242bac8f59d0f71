"""The saga base: what every saga workflow shares (steps, compensations, operators, status)."""
