"""SPARQL as text and wire: the lexer, the guard, negotiation, the text table, remote stores and
federation."""
