"""``python -m sim.sweep SWEEP.yaml --out DIR`` (same as ``fulfil sweep``)."""

import sys

from sim.sweep.command import main

# The guard matters: spawned workers (process pool, LocalCluster) re-import __main__.
if __name__ == "__main__":
    sys.exit(main())
