"""`python -m hub.sim --port P [--merchant ID:KEY,...]`: run the channel simulator (tests start it this way)."""

from __future__ import annotations

import argparse

from hub.sim.app import parse_merchants, serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m hub.sim")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--merchant", default=None, help="id:key[,id:key…] (default: ANJU_SIM_MERCHANTS)")
    args = parser.parse_args()
    import os

    serve(args.port, args.host, parse_merchants(args.merchant or os.environ.get("ANJU_SIM_MERCHANTS")))
