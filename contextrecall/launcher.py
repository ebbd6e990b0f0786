"""The `recall` console script. `recall hook` skips the CLI framework entirely: it runs on
every agent event, so its start-up cost matters more than anything else's."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["hook"] and len(sys.argv) == 2:
        from contextrecall.hook import main as hook_main

        sys.exit(hook_main())
    from contextrecall.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
