"""The application side of each bounded context: one package each, its declaration
in the package's ``__init__``."""
