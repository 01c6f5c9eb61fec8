"""The code you are working on: it lives on the host and is mounted read-only into the workspace."""

import platform
import sys

print(f"hello from Python {sys.version.split()[0]} on {platform.system()}")
