"""The fault-injection suite: real workers, real servers, faults, and a checker that counts."""
