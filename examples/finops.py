"""The FinOps side in Python: record a workload in a spend ledger, then report on it and export FOCUS.

Runs the demo's multi-team workload through the real SDKs against tokentrace's local provider
server (nothing leaves 127.0.0.1), so it needs no API key::

    python examples/finops.py                                  # report and FOCUS in a temp dir
    python examples/finops.py --picture docs/img/report-demo.png  # also the README's chart

The README's report picture is made this way, from the demo's data.
"""

from __future__ import annotations

import argparse
import csv
import math
import tempfile
import time
from pathlib import Path

import tokentrace
from tokentrace.cli.demo import run_workload
from tokentrace.focus import export
from tokentrace.ledger.reader import read_rows
from tokentrace.report import render_text, report, write_html
from tokentrace.testing import ProviderServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--picture", help="write the report's spend-by-model chart to this PNG file")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tokentrace-finops-"))
    ledger = workdir / "spend.sqlite"

    # 1. Record: every completed call goes to the ledger file, off the app's thread.
    tokentrace.instrument(ledger=str(ledger), configure_sdk=False)
    with ProviderServer() as server:
        run_workload(server)
    tokentrace.uninstrument()  # writes what is still pending (so does exit, or tokentrace.flush())

    # 2. Read a period back: the same SpendRows whichever source (ledger=... or prometheus=...).
    end = time.time() + 60
    start = end - 86400
    rows = read_rows(ledger=str(ledger), start=start, end=end)
    spend = math.fsum(r.effective_cost_usd or 0.0 for r in rows)
    print(f"ledger rows: {len(rows)}, calls: {sum(r.calls for r in rows)}, spend: ${spend:.6f}")

    # 3. Report: terminal tables, and one self-contained HTML page with charts.
    data = report(ledger=str(ledger), start=start, end=end)
    print(render_text(data))
    write_html(data, workdir / "spend.html")
    if args.picture:
        from tokentrace.report.charts import render_charts

        Path(args.picture).write_bytes(render_charts(data)["spend-by-model.png"])

    # 4. FOCUS: token-level rows for a FinOps platform, CSV or Parquet.
    #    export() streams the rows into the file a day at a time and says how many it wrote.
    written = export(workdir / "focus.csv", ledger=str(ledger), start=start, end=end)
    with open(workdir / "focus.csv", newline="") as stream:
        focus_total = math.fsum(float(r["EffectiveCost"]) for r in csv.DictReader(stream))
    print(f"FOCUS rows: {written.rows}, EffectiveCost total: ${focus_total:.6f}, written to {workdir / 'focus.csv'}")


if __name__ == "__main__":
    main()
