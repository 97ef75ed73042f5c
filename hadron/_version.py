"""The installed distribution's version (``hadron-markets``), re-exported as ``hadron.__version__``."""

__version__ = "0.2.0"
