import sys

from watchfloor.cli import main

sys.exit(main())
