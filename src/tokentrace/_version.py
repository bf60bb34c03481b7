"""The package version, in a module of its own so that every layer can name it without importing
the top-level package (which would make the bottom layers depend on the top)."""

__version__ = "0.1.0"
