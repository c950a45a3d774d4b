"""``python -m conner``: the ``conner`` command line."""

from .cli import app

if __name__ == "__main__":
    app(prog_name="conner")
