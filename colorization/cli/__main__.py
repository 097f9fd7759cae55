import sys

from colorization.cli import main

sys.exit(main())
