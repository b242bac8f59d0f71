"""The application layer, its adapters and the entry points of the worker."""
