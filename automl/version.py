"""The package version, in a module of its own: saved models and run folders record it without importing more."""

__version__ = "0.1.0"
