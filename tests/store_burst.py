"""Helper process for the crash test: toggles ticks and prints ACK after each commit."""

import sys

from dialogs.store import Store

store = Store(sys.argv[1])
store.open_checklist(1, "unlock")
n = 0
while True:
    item = f"item{n}"
    store.set_tick(1, "unlock", item, True)
    print(f"ACK {item}", flush=True)
    n += 1
