"""The front door: the HTTP API (``api``) and the operator console (``console``)."""
