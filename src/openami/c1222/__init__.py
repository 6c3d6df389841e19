"""ANSI C12.22 (IEEE 1703) protocol core: sans-IO codecs and state machines."""
