"""The composition root: the Textual app and the `papertrade` command line."""
