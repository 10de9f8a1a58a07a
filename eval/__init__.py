"""Bayyina's evaluation harness. It uses only the public API (``qa``)."""
