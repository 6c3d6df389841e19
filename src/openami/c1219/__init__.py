"""ANSI C12.19 tables: declarative definitions, bound layouts, exact codecs."""
