"""`python -m benchmarks`: the benchmarks of `make bench` (benchmarks/run.py)."""

import sys

from benchmarks.run import main

sys.exit(main())
