"""Ledgers made without locking, for the report test and bench/run: records in the format that
gtest_lockable/src/ledger/record.cpp writes (docs/ledger.md)."""
import json
import random
import time
import uuid


def synthetic_ledger(path, resources=50, allocations=10000, start=None, span=86400.0, seed=1):
    """Writes `allocations` released allocations spread over `resources` resources and `span`
    seconds from `start` (default: the last `span` seconds), none of one resource overlapping; a third of them fail. Returns
    the records' count per resource."""
    rng = random.Random(seed)
    start = time.time() - span if start is None else start
    per = {}
    ids = ["board-%02d" % i for i in range(resources)]
    slots = allocations // resources + 1
    lines = []
    count = 0
    for rid in ids:
        slot = span / slots
        for i in range(slots):
            if count >= allocations:
                break
            count += 1
            per[rid] = per.get(rid, 0) + 1
            begin = start + i * slot + rng.uniform(0, slot * 0.2)
            hold = rng.uniform(slot * 0.1, slot * 0.7)
            wait = rng.expovariate(1 / 3.0)
            alloc = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            lines.append((begin, json.dumps({
                "v": 1, "ev": "start", "alloc_id": alloc, "resource": rid, "host": "lab-1",
                "pid": 1000 + count, "uid": 1000, "user": "ci",
                "job": "github:%d/1/build" % (5000 + count),
                "requirements": {"hostname": "lab-1", "online": True, "type": "board"},
                "queued": round(begin - wait, 6), "started": round(begin, 6)},
                separators=(",", ":"))))
            end = {"v": 1, "ev": "end", "alloc_id": alloc, "resource": rid,
                   "ended": round(begin + hold, 6), "hold": round(hold, 6)}
            if rng.random() < 0.5:
                end["exit"] = 1 if rng.random() < 0.33 else 0
            else:
                failed = 1 if rng.random() < 0.33 else 0
                end.update(passed=40 - failed, failed=failed, skipped=0)
                if failed:
                    end["failed_tests"] = ["flash_test.boots"]
            lines.append((begin + hold, json.dumps(end, separators=(",", ":"))))
    # In time order, as writers append: a start when held, an end when released.
    lines.sort(key=lambda line: line[0])
    with open(path, "w") as out:
        out.write("\n".join(text for _, text in lines) + "\n")
    return per
