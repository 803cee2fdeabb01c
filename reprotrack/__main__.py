import sys

from reprotrack.cli import main

sys.exit(main())
