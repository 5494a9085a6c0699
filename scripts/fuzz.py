"""Longer fuzzing of the image and model-file loaders than the test suite can afford.

Random byte mutations of small valid files (``tests/fuzz_targets.py``); any exception that is
not a StylebridgeError, or an input that takes longer than ``--timeout-s``, is saved under
``tests/fixtures/fuzz/`` for ``tests/test_fuzz.py`` to replay:

    python scripts/fuzz.py --seconds 600
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import fuzz_targets as ft  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "fuzz"


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang


def _random_edits(rng: random.Random, size: int) -> list[tuple[int, int, int]]:
    count = rng.choice([1, 1, 2, 4, 16])
    return [
        (rng.randrange(3), rng.randrange(max(1, size)), rng.randrange(256)) for _ in range(count)
    ]


def _cases(rng: random.Random, seeds: dict[str, bytes], tensors: bytes, model: tuple[dict, bytes]):
    """Yields (name, suffix, data, run) forever, cycling over the three targets."""
    config, weights = model
    config_bytes = json.dumps(config).encode()
    while True:
        suffix = rng.choice(sorted(seeds))
        cut = rng.choice([None, None, rng.randrange(1 << 16)])
        data = ft.mutate(seeds[suffix], _random_edits(rng, len(seeds[suffix])), cut)
        yield "image", suffix, data, lambda d, f, s=suffix: ft.load_image_bytes(d, f, s)
        data = ft.mutate(tensors, _random_edits(rng, len(tensors)), None)
        yield "tensors", ".safetensors", data, ft.load_tensor_bytes
        mutated = ft.mutate(config_bytes, _random_edits(rng, len(config_bytes)), None)
        yield "config", ".json", mutated, lambda d, f: ft.load_model_folder(d, weights, f)
        data = ft.mutate(weights, _random_edits(rng, 64), None)
        yield "weights", ".safetensors", data, lambda d, f: ft.load_model_folder(config_bytes, d, f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--timeout-s", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    model = ft.model_folder_seed()
    cases = _cases(rng, ft.image_seeds(), ft.safetensors_seed(), model)
    end, count, found = time.monotonic() + args.seconds, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # the first model load imports torch's meta-device kernels (seconds): not a hang
        ft.load_model_folder(json.dumps(model[0]).encode(), model[1], folder)
        while time.monotonic() < end:
            name, suffix, data, run = next(cases)
            count += 1
            signal.alarm(args.timeout_s)
            try:
                run(data, folder)
            except Exception as err:  # anything but StylebridgeError escaped: keep the input
                problem = "hang" if isinstance(err, Hang) else type(err).__name__
                digest = hashlib.sha256(data).hexdigest()[:12]
                FIXTURES.mkdir(parents=True, exist_ok=True)
                (FIXTURES / f"{name}-{digest}{suffix}").write_bytes(data)
                found += 1
                print(f"{name}: {problem}: {str(err)[:120]}")
                traceback.print_exc(limit=-2)
            finally:
                signal.alarm(0)
    print(f"{count} inputs in {args.seconds:.0f} s, {found} crash(es) saved in {FIXTURES}")


if __name__ == "__main__":
    main()
