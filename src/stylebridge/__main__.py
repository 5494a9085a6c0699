"""``python -m stylebridge``: the same command as ``stylebridge``; what torchrun launches
(``torchrun --nproc-per-node 2 -m stylebridge train ...``)."""

from .cli import main

if __name__ == "__main__":
    main()
