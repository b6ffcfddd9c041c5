"""Parse-and-normalize throughput of the live feed adapters, per venue.

    python benchmarks/feeds.py [--n 50000] [--repeat 3] [--recording CAPTURE.gz]

Each case feeds frames through the adapter's real `decode` (wire validation, Decimal
conversion, dedupe, core event construction) and, as a baseline measured in the same run on the
same frames, a bare `json.loads`. Binance frames are recorded real ones: by default the short
sample in `tests/fixtures/offline/`; pass `--recording` the full 2024-08-08 capture
(`examples/usdm/btcusdt_20240808.gz` of https://github.com/nkaz001/hftbacktest, MIT) for the
50,000-frame figures. No Bybit, OKX or Hyperliquid capture exists here, so their frames are
built from the documented sample shapes with increasing ids/timestamps (so dedupe does not
short-circuit them). Target: ≥ 100,000 msg/s for Binance bookTicker.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from papertrade.feeds.base import FeedStats  # noqa: E402
from papertrade.feeds.binance import BinanceAdapter  # noqa: E402
from papertrade.feeds.bybit import BybitAdapter  # noqa: E402
from papertrade.feeds.hyperliquid import HyperliquidAdapter  # noqa: E402
from papertrade.feeds.okx import OkxAdapter  # noqa: E402

RECORDING = ROOT / "tests" / "fixtures" / "offline" / "btcusdt-2024-08-08-head60.hftbacktest.gz"


def binance_frames(kind: str, n: int, recording: Path = RECORDING) -> list[str]:
    out: list[str] = []
    with gzip.open(recording, "rt", encoding="utf-8") as f:
        for line in f:
            raw = line.split(" ", 1)[1].rstrip("\n")
            if f'"stream":"btcusdt@{kind}"' in raw:
                out.append(raw)
                if len(out) >= n:
                    break
    return out


def bybit_frames(n: int) -> list[str]:
    out = []
    for k in range(n):
        if k % 2:
            out.append(
                json.dumps(
                    {"topic": "tickers.BTCUSDT", "type": "delta", "cs": 10 + k,
                     "ts": 1760325052630 + k,
                     "data": {"symbol": "BTCUSDT", "bid1Price": f"{66666.6 + k % 7:.1f}",
                              "bid1Size": "2.5", "ask1Price": f"{66666.7 + k % 7:.1f}",
                              "ask1Size": "1.5", "markPrice": f"{66666.6 + k % 5:.1f}"}}
                )
            )  # fmt: skip
        else:
            out.append(
                json.dumps(
                    {"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1760325052630 + k,
                     "data": [{"T": 1760325052630 + k, "s": "BTCUSDT", "S": "Buy", "v": "0.001",
                               "p": "66666.70", "L": "PlusTick", "i": f"id-{k}", "BT": False,
                               "seq": 1783284617 + k}]}
                )
            )  # fmt: skip
    return out


def bybit_setup(adapter: BybitAdapter) -> None:
    snapshot = {"topic": "tickers.BTCUSDT", "type": "snapshot", "cs": 1, "ts": 1760325052000,
                "data": {"symbol": "BTCUSDT", "markPrice": "66666.60", "indexPrice": "66660.0",
                         "fundingRate": "0.0001", "nextFundingTime": "1760342400000",
                         "bid1Price": "66666.60", "bid1Size": "1", "ask1Price": "66666.70",
                         "ask1Size": "1"}}  # fmt: skip
    adapter.decode("linear", json.dumps(snapshot))


def okx_frames(n: int) -> list[str]:
    inst = "BTC-USDT-SWAP"
    out = []
    for k in range(n):
        if k % 2:
            out.append(
                json.dumps(
                    {"arg": {"channel": "bbo-tbt", "instId": inst},
                     "data": [{"asks": [[f"{84123.5 + k % 7:.1f}", "415", "0", "13"]],
                               "bids": [[f"{84123.4 + k % 7:.1f}", "256", "0", "12"]],
                               "ts": str(1744617599100 + k), "seqId": 100 + k}]}
                )
            )  # fmt: skip
        else:
            out.append(
                json.dumps(
                    {"arg": {"channel": "trades", "instId": inst},
                     "data": [{"instId": inst, "tradeId": str(130639474 + k), "px": "84123.5",
                               "sz": "12", "side": "buy", "ts": str(1744617599200 + k),
                               "count": "3", "seqId": 1234 + k}]}
                )
            )  # fmt: skip
    return out


def hyperliquid_frames(n: int) -> list[str]:
    return [
        json.dumps(
            {
                "channel": "bbo",
                "data": {
                    "coin": "BTC",
                    "time": 1788490065008 + k,
                    "bbo": [
                        {"px": f"{80639 + k % 7}.0", "sz": "0.00186", "n": 2},
                        {"px": f"{80640 + k % 7}.0", "sz": "13.74589", "n": 46},
                    ],
                },
            }
        )
        for k in range(n)
    ]


def rate(run: Callable[[], int], count: int, repeat: int) -> tuple[float, int]:
    best = float("inf")
    produced = 0
    for _ in range(repeat):
        start = time.perf_counter()
        produced = run()
        best = min(best, time.perf_counter() - start)
    return count / best, produced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="frames per case")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is kept)")
    parser.add_argument(
        "--recording", type=Path, default=RECORDING, help="hftbacktest BTCUSDT capture (.gz)"
    )
    args = parser.parse_args()
    n = args.n

    cases: list[tuple[str, list[str], Callable[[], object], str]] = [
        ("binance bookTicker (recorded)", binance_frames("bookTicker", n, args.recording),
         lambda: BinanceAdapter(["BTCUSDT"]), "public"),
        ("binance trade (recorded)", binance_frames("trade", n, args.recording),
         lambda: BinanceAdapter(["BTCUSDT"]), "market"),
        ("bybit tickers delta + publicTrade", bybit_frames(n), lambda: BybitAdapter(["BTCUSDT"]),
         "linear"),
        ("okx bbo-tbt + trades", okx_frames(n), lambda: OkxAdapter(["BTCUSDT"]), "public"),
        ("hyperliquid bbo", hyperliquid_frames(n), lambda: HyperliquidAdapter(["BTCUSDT"]), "ws"),
    ]  # fmt: skip

    print(
        f"{'case':36} {'frames':>7} {'events':>7} {'msg/s':>11} {'json.loads/s':>13} {'ratio':>6}"
    )
    for name, frames, make, conn in cases:
        measure(name, frames, make, conn, args.repeat)


def measure(
    name: str, frames: list[str], make: Callable[[], object], conn: str, repeat: int
) -> None:
    """Print one case: adapter decode rate against bare json.loads on the same frames."""
    loads = json.loads

    def baseline() -> int:
        for raw in frames:
            loads(raw)
        return 0

    def adapter_run() -> int:
        adapter = make()
        if isinstance(adapter, BybitAdapter):
            bybit_setup(adapter)
        decode = adapter.decode  # type: ignore[attr-defined]
        produced = 0
        for raw in frames:
            produced += len(decode(conn, raw)[1])
        stats: FeedStats = adapter.stats  # type: ignore[attr-defined]
        if stats.dropped:
            raise SystemExit(f"{name}: unexpected drops {dict(stats.dropped)}")
        return produced

    base_rate, _ = rate(baseline, len(frames), repeat)
    ours, produced = rate(adapter_run, len(frames), repeat)
    print(
        f"{name:36} {len(frames):>7} {produced:>7} {ours:>11,.0f} {base_rate:>13,.0f}"
        f" {ours / base_rate:>6.2f}"
    )


if __name__ == "__main__":
    main()
