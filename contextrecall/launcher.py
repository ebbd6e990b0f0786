"""The `recall` console script. `recall hook` skips the CLI framework entirely: it runs on
every agent event, so its start-up cost matters more than anything else's."""

from __future__ import annotations

import os
import sys


def _flush(stream) -> None:
    try:
        stream.flush()
    except (OSError, ValueError):  # the agent stopped reading: nothing left to save
        return


def main() -> None:
    if sys.argv[1:2] == ["hook"] and len(sys.argv) == 2:
        from contextrecall.hook import main as hook_main

        code = hook_main()
        # Skip the interpreter's teardown (about 3 ms for the modules a hook loads): the hook
        # has closed every file it wrote, so only the standard streams need flushing.
        _flush(sys.stdout)
        _flush(sys.stderr)
        os._exit(code)
    from contextrecall.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
