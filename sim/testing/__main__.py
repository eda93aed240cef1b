"""``python -m sim.testing {update,check,new}``: the explicit golden-file command."""

import sys

from sim.testing.golden import main

if __name__ == "__main__":
    sys.exit(main())
