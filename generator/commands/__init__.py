"""Command groups of the CLI. Each module has register(app) and keeps heavy imports inside
commands."""
