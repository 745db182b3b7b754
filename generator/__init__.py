"""recipe: reproducible Linux and Docker networking labs."""

__version__ = "0.1.0"
