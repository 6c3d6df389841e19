"""openami: an open smart-metering stack on ANSI C12.19 / C12.22 (IEEE 1703)."""

__version__ = "0.1.0"
__all__ = ["__version__"]
