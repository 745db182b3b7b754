"""The floor for `recipe render`'s start-up: a two-command Typer app that prints one line.

bench/render_startup.py runs it cold, next to `recipe render custom-bridge`.
"""

import typer

app = typer.Typer(add_completion=False)


@app.command()
def hello() -> None:
    """Print one line."""
    print("hello")


@app.command()
def bye() -> None:
    """Print another line."""
    print("bye")


if __name__ == "__main__":
    app()
