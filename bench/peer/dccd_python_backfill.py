"""One dccd-python backfill against dccd's exchange simulator, for bench/peer.ts.

Usage: dccd_python_backfill.py '{"config", "restBase", "symbol", "kind", "span", "start", "endNs", "lifted"}'

dccd-python has no setting for the venue URL, the end of a backfill or its rate limit, so
this driver sets the module-level seams it reads them from before any adapter is built:
- its Binance REST base (``dccd.sources.binance._BASE_REST``, ``.../api/v3``);
- the clock its backfill takes as the end (``ns_now`` as imported by ``operations``); its
  ranges are inclusive, so it is pinned 1 ns before the half-open range's end;
- with ``lifted``, its process-wide limiter (10 requests/s for Binance by default).
Prints the backfill's result as one JSON line; exits 1 if the backfill reports an error.
"""

import asyncio
import json
import sys

import dccd.application.operations as operations
import dccd.sources.binance as binance
import dccd.transport.ratelimit as ratelimit
from dccd import Client

# Requests per second; the token bucket's burst is the same number, so it never waits.
UNLIMITED = 1e9


async def main(args: dict) -> int:
    binance._BASE_REST = args["restBase"]
    end_ns = int(args["endNs"])  # text: JSON numbers lose ns past 2^53
    operations.ns_now = lambda: end_ns - 1
    if args["lifted"]:
        # Adapters take the shared limiter when Client builds them, on entering the block.
        ratelimit._shared_limiter = ratelimit.RateLimiter({"binance": UNLIMITED})
    async with Client(args["config"]) as c:
        result = await c.backfill("binance", args["symbol"], args["kind"], span=args["span"], start=args["start"])
    print(json.dumps(result))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
