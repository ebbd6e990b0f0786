"""``python -m contextrecall.cli``: the ``recall`` command line."""

from contextrecall.cli import main

if __name__ == "__main__":
    main()
