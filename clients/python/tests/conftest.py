import logging
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package from the source tree (stubs from generate_stubs.sh)
sys.path.insert(0, HERE)

logging.getLogger("moe_telemetry").setLevel(logging.INFO)
