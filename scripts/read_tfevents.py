#!/usr/bin/env python3
"""Independent check of a Millwright TensorBoard event file, read with TensorBoard's own loader.

Usage: read_tfevents.py RUN_DIR
Prints one JSON object on stdout: {"tags": [...], "scalars": {tag: [[step, value], ...]}}
(non-finite values as null).
Exits non-zero (with the reason on stderr) when the folder holds no readable scalar events.
"""
import json
import math
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    # size_guidance 0 = keep every event (the default samples down to 10 000 scalars per tag).
    acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
    acc.Reload()
    tags = sorted(acc.Tags().get("scalars", []))
    if not tags:
        print(f"no scalar events found in {sys.argv[1]}", file=sys.stderr)
        return 1
    scalars = {
        # JSON has no NaN: a non-finite value (a diverged loss) is written as null.
        tag: [[e.step, e.value if math.isfinite(e.value) else None] for e in acc.Scalars(tag)]
        for tag in tags
    }
    json.dump({"tags": tags, "scalars": scalars}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
