"""Bayyina's evaluation harness. It uses only the public API (``qa``).

``eval.run(config, out_dir)`` runs a configured benchmark (see ``eval.config``) and writes a
report folder; ``eval.load_config(path)`` reads a TOML configuration.
"""


def run(config, out_dir, **kwargs):
    """Run ``config`` (a ``RunConfig`` or a TOML path) and write the report folder ``out_dir``."""
    from eval.config import RunConfig, load_config
    from eval.runner import run as _run

    if not isinstance(config, RunConfig):
        config = load_config(config)
    return _run(config, out_dir, **kwargs)


def load_config(path):
    from eval.config import load_config as _load

    return _load(path)
