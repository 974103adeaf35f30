"""Subprocess worker for the persistence tests (run as a script, prints one JSON line).

python chain_worker.py anchor DATA_DIR N   anchor N more epochs, then report
python chain_worker.py report DATA_DIR     report only
python chain_worker.py forever DATA_DIR    anchor until killed, printing each epoch
"""

from __future__ import annotations

import json
import os
import sys

from vntrace.node.chain import EmbeddedChain


def report(chain: EmbeddedChain) -> dict[str, object]:
    anchored = [e for e in chain.events_since(0) if e.name == "RootAnchored"]
    return {
        "chain_id": chain.chain_id,
        "block_number": chain.block_number(),
        "registry": chain.registry_address,
        "operator": chain.operator_address,
        "last_epoch": chain.last_epoch(),
        "roots": ["0x" + bytes(e.args["root"]).hex() for e in anchored],
        "epochs": [e.args["epoch"] for e in anchored],
    }


def main(argv: list[str]) -> int:
    command, data_dir = argv[0], argv[1]
    with EmbeddedChain(data_dir) as chain:
        if command == "anchor":
            for _ in range(int(argv[2])):
                chain.anchor(os.urandom(32), chain.last_epoch() + 1, 1)
        elif command == "forever":
            epoch = chain.last_epoch()
            while True:
                epoch += 1
                chain.anchor(os.urandom(32), epoch, 1)
                print(epoch, flush=True)
        print(json.dumps(report(chain)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
