"""`python -m storeplane_cli`: the same as the `storeplane` script."""

from storeplane_cli.app import main

main()
