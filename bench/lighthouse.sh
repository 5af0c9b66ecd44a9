#!/usr/bin/env bash
# Lighthouse (mobile) audit of /login, /today and /trends with Debian's Chromium (SPEC §11:
# performance >= 95, accessibility 100, best practices 100), and the first-visit transfer size
# of /today (budget <= 100 KB). Starts the app on a temporary SQLite database with a demo diary.
#   bench/lighthouse.sh            (needs node/npm; fetches lighthouse@12 with npx)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8799}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

export DATABASE_URL="sqlite:///$WORK/lighthouse.db" SECRET_KEY=lighthouse DATA_DIR="$WORK"
.venv/bin/alembic upgrade head >/dev/null 2>&1
.venv/bin/python bench/demo_account.py "$DATABASE_URL" >/dev/null
.venv/bin/uvicorn app.main:app --port "$PORT" --log-level warning &
SERVER=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/login" >/dev/null && break; sleep 0.2; done

# A signed-in session cookie for the pages behind the sign-in.
COOKIE=$(.venv/bin/python bench/demo_account.py --cookie "http://127.0.0.1:$PORT")

export CHROME_PATH=/usr/bin/chromium
FLAGS="--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync"
for page in login today trends; do
  headers="{}"
  [[ "$page" != "login" ]] && headers="{\"Cookie\": \"ldn_session=$COOKIE\"}"
  npx --yes lighthouse@12 "http://127.0.0.1:$PORT/$page" --quiet \
    --chrome-flags="$FLAGS" --extra-headers="$headers" \
    --only-categories=performance,accessibility,best-practices \
    --output=json --output-path="$WORK/$page.json" >/dev/null 2>&1 || true
  node -e '
    const r = require(process.argv[1]);
    const s = k => r.categories[k] ? Math.round(r.categories[k].score * 100) : "n/a";
    const bytes = r.audits["total-byte-weight"] ? r.audits["total-byte-weight"].numericValue : NaN;
    console.log(`${r.finalDisplayedUrl}: performance ${s("performance")}, accessibility ${s("accessibility")}, best practices ${s("best-practices")}, transfer ${(bytes / 1024).toFixed(1)} KB`);
    const m = k => r.audits[k] ? r.audits[k].displayValue : "";
    console.log(`  FCP ${m("first-contentful-paint")}, LCP ${m("largest-contentful-paint")}, TBT ${m("total-blocking-time")}, CLS ${m("cumulative-layout-shift")}, SI ${m("speed-index")}`);
    if (r.runtimeError) console.log(`  Lighthouse could not audit the page: ${r.runtimeError.code} ${r.runtimeError.message}`);
  ' "$WORK/$page.json" "$page"
done
