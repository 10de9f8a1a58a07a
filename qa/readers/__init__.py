"""Readers turn a question and retrieved passages into an answer with ``[n]`` markers."""
