#!/usr/bin/env bash
# Counts the D-Bus messages one run of a command exchanges on the session
# bus: dbus-monitor --profile watches the bus while COMMAND runs once, and
# every message sent by or to a connection that said Hello meanwhile (the
# command's own; the monitor's comes before) is counted, calls, replies,
# errors and signals alike. Run it on a private bus (scripts/with-keyring).
#   bench/dbuscount/count.sh COMMAND [ARGS...]   # prints: N (call names)
set -euo pipefail
log=$(mktemp)
dbus-monitor --session --profile >"$log" 2>/dev/null &
mon=$!
sleep 0.3
"$@" >/dev/null
sleep 0.3
kill "$mon"
wait "$mon" 2>/dev/null || true
# --profile columns: type time serial sender destination path interface member
python3 - "$log" <<'PY'
import sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l and not l.startswith('#')]
# The monitor said Hello before it became one, so every reply from the bus
# to a unique name here answers the command's Hello.
count, members = 0, []
mine = set()
for r in rows:
    if r[0] == 'mr' and r[3] == 'org.freedesktop.DBus' and len(r) > 4 and r[4].startswith(':'):
        mine.add(r[4])
for r in rows:
    if len(r) < 5:
        continue
    if r[3] in mine or r[4] in mine:
        if r[0] == 'sig' and r[3] == 'org.freedesktop.DBus':
            continue  # NameOwnerChanged/NameAcquired broadcasts by the bus
        count += 1
        if r[0] == 'mc':
            members.append(r[7] if len(r) > 7 else '?')
print(count, '(' + ' '.join(members) + ')')
PY
rm -f "$log"
