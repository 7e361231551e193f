import sys

from desktop_agent.cli import main

sys.exit(main())
