"""The ``tokentrace`` command line."""
