"""The index: Chroma for vectors, SQLite for the lexical index and the document registry."""
