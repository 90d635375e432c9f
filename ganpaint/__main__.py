import sys

from ganpaint.cli import main

sys.exit(main())
