import sys

from icl_theory.cli import main

sys.exit(main())
