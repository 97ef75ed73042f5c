"""``python -m hadron``: the same command line as ``hadron``."""

from hadron.cli import main

if __name__ == "__main__":
    main()
