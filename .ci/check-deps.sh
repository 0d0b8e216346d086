#!/usr/bin/env bash
# Dependency direction (docs/architecture.md): domain crates contain no actix, `web` contains no
# SQL (no direct diesel or database driver), and arrows only point down:
#   cli -> web -> consent -> vault -> accounts -> audit -> db; consent -> coins; vault -> coins -> audit;
#   audit -> crypto; crypto depends on no crate of ours.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
complain() { echo "dependency check FAILED: $*" >&2; fail=1; }

# Normal (non-dev) dependencies of a crate, one name per line.
deps() { cargo tree -p "$1" -e normal --prefix none --format '{p}' 2>/dev/null | awk '{print $1}' | sort -u; }
direct() { cargo tree -p "$1" -e normal --depth 1 --prefix none --format '{p}' 2>/dev/null | awk 'NR>1 {print $1}' | sort -u; }

# 1. No actix anywhere below the web layer.
for crate in infobank-crypto infobank-db infobank-audit infobank-accounts infobank-coins infobank-vault infobank-consent; do
  if deps "$crate" | grep -qx 'actix-web\|actix-http\|actix-server'; then
    complain "$crate depends on actix"
  fi
done

# 2. The web crate reaches the database only through domain crates.
if direct infobank-web | grep -qx 'diesel\|diesel_migrations\|libsqlite3-sys\|pq-sys\|r2d2'; then
  complain "infobank-web depends directly on a database crate"
fi

# 3. crypto and db are leaves among our crates; nothing depends upward.
if deps infobank-crypto | grep -v '^infobank-crypto$' | grep -q '^infobank-'; then
  complain "infobank-crypto depends on another infobank crate"
fi
if deps infobank-db | grep -v '^infobank-db$' | grep -q '^infobank-'; then
  complain "infobank-db depends on another infobank crate"
fi
if deps infobank-audit | grep -qx 'infobank-accounts\|infobank-coins\|infobank-web\|infobank\|infobank-testkit'; then
  complain "infobank-audit depends upward (accounts, coins, web, cli or testkit)"
fi
# The ledger knows accounts only by id: no citizen data, no vault, nothing above it.
if deps infobank-coins | grep -qx 'infobank-accounts\|infobank-vault\|infobank-consent\|infobank-web\|infobank\|infobank-testkit'; then
  complain "infobank-coins depends on accounts, vault, web, cli or testkit"
fi
if deps infobank-vault | grep -qx 'infobank-consent\|infobank-web\|infobank\|infobank-testkit'; then
  complain "infobank-vault depends upward (consent, web, cli or testkit)"
fi
if deps infobank-consent | grep -qx 'infobank-web\|infobank\|infobank-testkit'; then
  complain "infobank-consent depends upward (web, cli or testkit)"
fi
if deps infobank-accounts | grep -qx 'infobank-vault\|infobank-coins\|infobank-web\|infobank\|infobank-testkit'; then
  complain "infobank-accounts depends upward (vault, coins, web, cli or testkit)"
fi
for crate in infobank-crypto infobank-db infobank-audit infobank-accounts infobank-coins infobank-vault infobank-consent infobank-web; do
  if deps "$crate" | grep -qx 'infobank-testkit'; then
    complain "$crate has the test kit as a normal dependency"
  fi
done

if [ "$fail" -ne 0 ]; then exit 1; fi
echo "dependency direction: ok"
