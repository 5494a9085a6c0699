"""Fuzzed and hostile inputs: the image loader and the model-file loader let nothing but
StylebridgeError escape, never hang and never allocate without bound.

Bounded campaigns with hypothesis here; ``scripts/fuzz.py --seconds N`` runs longer ones and
saves what it finds to ``tests/fixtures/fuzz/``, which the first test replays.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import resource
import signal
import struct
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save

from stylebridge.errors import ImageError, ModelFileError
from stylebridge.imageio import load_image
from stylebridge.models.files import FORMAT, generator_from_config, read_run_config, read_tensors

from . import fuzz_targets as ft

pytestmark = pytest.mark.slow  # hundreds of hostile inputs per test; make test runs them
FIXTURES = Path(__file__).parent / "fixtures" / "fuzz"
SEEDS = ft.image_seeds()
TENSOR_SEED = ft.safetensors_seed()
MODEL_CONFIG, MODEL_WEIGHTS = ft.model_folder_seed()
PER_INPUT_S = 10  # one input taking longer than this is a hang
MEMORY_HEADROOM = 1 << 30  # address space one input may add (the decompression-bomb guard)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,  # the same inputs on every run: CI stays reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Hang(Exception):
    pass


@pytest.fixture(scope="module", autouse=True)
def _warm_up(tmp_path_factory):
    """The first model load imports torch's meta-device kernels, which takes seconds on a busy
    machine: do it once outside the per-input alarm."""
    folder = tmp_path_factory.mktemp("warm")
    ft.load_model_folder(json.dumps(MODEL_CONFIG).encode(), MODEL_WEIGHTS, folder)


@contextlib.contextmanager
def bounded():
    """Fail an input that runs over PER_INPUT_S or maps more than MEMORY_HEADROOM more bytes
    (a MemoryError escapes and fails the test like any foreign exception)."""

    def on_alarm(signum, frame):
        raise Hang(f"input took over {PER_INPUT_S} s")

    with open("/proc/self/statm") as fh:
        mapped = int(fh.read().split()[0]) * resource.getpagesize()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    previous = signal.signal(signal.SIGALRM, on_alarm)
    resource.setrlimit(resource.RLIMIT_AS, (mapped + MEMORY_HEADROOM, hard))
    # pytest-timeout may hold the one real-time timer: take it over and give back what is left
    outer, _ = signal.setitimer(signal.ITIMER_REAL, PER_INPUT_S)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(0.001, outer - (time.monotonic() - started)))


def _replay(path: Path, folder: Path) -> None:
    kind = path.name.split("-", 1)[0]
    data = path.read_bytes()
    if kind == "image":
        ft.load_image_bytes(data, folder, path.suffix)
    elif kind == "tensors":
        ft.load_tensor_bytes(data, folder)
    elif kind == "config":
        ft.load_model_folder(data, MODEL_WEIGHTS, folder)
    elif kind == "weights":
        ft.load_model_folder(json.dumps(MODEL_CONFIG).encode(), data, folder)
    else:
        raise AssertionError(f"{path.name}: unknown fixture kind {kind!r}")


def test_saved_crashers_stay_fixed(tmp_path):
    found = sorted(FIXTURES.iterdir())
    assert found, "tests/fixtures/fuzz holds the inputs earlier fuzzing crashed on"
    for path in found:
        with bounded():
            _replay(path, tmp_path)


edits = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255)), max_size=12
)


@FUZZ
@given(suffix=st.sampled_from(sorted(SEEDS)), edits=edits, cut=st.none() | st.integers(0, 1 << 16))
def test_mutated_images(tmp_path, suffix, edits, cut):
    with bounded():
        ft.load_image_bytes(ft.mutate(SEEDS[suffix], edits, cut), tmp_path, suffix)


@FUZZ
@given(data=st.binary(max_size=512), suffix=st.sampled_from([".png", ".jpg", ".gif", ".tif"]))
def test_random_bytes_as_images(tmp_path, data, suffix):
    with bounded():
        ft.load_image_bytes(data, tmp_path, suffix)


header_entries = st.dictionaries(
    st.text(max_size=4),
    st.fixed_dictionaries(
        {
            "dtype": st.sampled_from(["F32", "F16", "BF16", "I64", "U8", "BOOL", "F8_E4M3", "X"]),
            "shape": st.lists(st.integers(-2, 1 << 40), max_size=4),
            "data_offsets": st.lists(st.integers(-1, 1 << 40), max_size=3),
        }
    ),
    max_size=3,
)


@FUZZ
@given(header=header_entries, body=st.binary(max_size=64), lie=st.integers(-8, 8))
def test_safetensors_with_lying_headers(tmp_path, header, body, lie):
    raw = json.dumps({"__metadata__": {"format": FORMAT}, **header}).encode()
    data = struct.pack("<Q", max(0, len(raw) + lie)) + raw + body
    with bounded():
        ft.load_tensor_bytes(data, tmp_path)


@FUZZ
@given(edits=edits)
def test_mutated_safetensors(tmp_path, edits):
    with bounded():
        ft.load_tensor_bytes(ft.mutate(TENSOR_SEED, edits, None), tmp_path)


# no subnormal floats: training flushes denormals to zero process-wide, and hypothesis refuses
# to draw them then
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_subnormal=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@FUZZ
@given(
    changes=st.dictionaries(
        st.sampled_from([*MODEL_CONFIG["generator"], "extra"]), json_values, max_size=4
    ),
    top=st.dictionaries(
        st.sampled_from(["directions", "exports", "generator", "format"]), json_values, max_size=2
    ),
)
def test_absurd_model_configs(tmp_path, changes, top):
    config = {**MODEL_CONFIG, "generator": {**MODEL_CONFIG["generator"], **changes}, **top}
    with bounded():
        ft.load_model_folder(json.dumps(config).encode(), MODEL_WEIGHTS, tmp_path)


@FUZZ
@given(edits=edits)
def test_mutated_model_weights(tmp_path, edits):
    with bounded():
        ft.load_model_folder(
            json.dumps(MODEL_CONFIG).encode(), ft.mutate(MODEL_WEIGHTS, edits, None), tmp_path
        )


# --- hand-made hostile files: each refused with one line naming the file ---------------------


class _Payload:
    """Unpickling this would create a file: proof that a loader ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _one_line(err: pytest.ExceptionInfo, path: Path) -> str:
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    return message


def _model_folder(tmp_path: Path, config: dict, weights: bytes = MODEL_WEIGHTS) -> Path:
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "g_ab.safetensors").write_bytes(weights)
    return tmp_path


@pytest.mark.parametrize("name", ["g_ab.safetensors", "model.pth"])
def test_crafted_pickle_is_refused_unopened(tmp_path, name):
    marker = tmp_path / "code_ran"
    path = tmp_path / name
    path.write_bytes(pickle.dumps({"weight": _Payload(marker)}, protocol=4))
    with pytest.raises(ModelFileError) as err:
        read_tensors(path)
    assert "pickle" in _one_line(err, path)
    folder = _model_folder(tmp_path, MODEL_CONFIG, path.read_bytes())
    with pytest.raises(ModelFileError, match="pickle"):
        generator_from_config(folder, "a2b")
    assert not marker.exists()


def _lying(header: dict, body: bytes = b"\0" * 8, length: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + body


@pytest.mark.parametrize(
    "data",
    [
        _lying({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4096]}}),  # past the end
        _lying({"w": {"dtype": "F32", "shape": [1 << 31, 1 << 31], "data_offsets": [0, 8]}}),
        _lying({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, length=1 << 60),
        _lying({"w": {"dtype": "F32", "shape": [3], "data_offsets": [8, 0]}}),  # reversed
        _lying({"w": {"dtype": "NOPE", "shape": [2], "data_offsets": [0, 8]}}),
    ],
    ids=["offsets-beyond-file", "huge-shape", "huge-header-length", "reversed", "bad-dtype"],
)
def test_lying_safetensors_header_is_one_line(tmp_path, data):
    path = tmp_path / "g_ab.safetensors"
    path.write_bytes(data)
    with bounded(), pytest.raises(ModelFileError) as err:
        read_tensors(path)
    _one_line(err, path)


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"generator": {**MODEL_CONFIG["generator"], "ngf": 10**9}}, "out of range"),
        ({"generator": {**MODEL_CONFIG["generator"], "n_blocks": 100_000}}, "out of range"),
        ({"generator": {**MODEL_CONFIG["generator"], "ngf": -4}}, "out of range"),
        ({"generator": {**MODEL_CONFIG["generator"], "norm": ["x"] * 3}}, "unusable value"),
        ({"directions": {"a2b": "../../outside.safetensors"}}, "is not allowed"),
        ({"generator": "big"}, "not a mapping"),
    ],
)
def test_absurd_config_is_one_line(tmp_path, change, expected):
    folder = _model_folder(tmp_path, {**MODEL_CONFIG, **change})
    with bounded(), pytest.raises(ModelFileError, match=expected) as err:
        generator_from_config(folder, "a2b")
    _one_line(err, folder)


def test_oversized_and_deeply_nested_configs(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(ModelFileError, match="nested too deeply|corrupt JSON") as err:
        read_run_config(tmp_path)
    _one_line(err, path)
    path.write_bytes(b" " * (5 << 20) + b"{}")
    with pytest.raises(ModelFileError, match="too large") as err:
        read_run_config(tmp_path)
    _one_line(err, path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    """A PNG declaring 100000 x 100000 pixels in a few hundred bytes."""
    from PIL import Image

    path = tmp_path / "bomb.png"
    Image.new("1", (1000, 1000)).save(path)
    data = bytearray(path.read_bytes())
    data[16:24] = struct.pack(">II", 100_000, 100_000)  # IHDR width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # with a valid checksum
    path.write_bytes(bytes(data))
    with bounded(), pytest.raises(ImageError) as err:
        load_image(path)
    assert "10000 MP), over the 150 MP limit" in _one_line(err, path)


def test_the_harness_catches_runaway_memory_and_hangs():
    with bounded(), pytest.raises(MemoryError):
        bytearray(2 * MEMORY_HEADROOM)
    with pytest.raises(Hang), bounded():
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        signal.pause()


def test_tensor_state_of_a_stranger_loads_only_as_data(tmp_path):
    """A valid safetensors file that is not a training state is refused, not half-used."""
    path = tmp_path / "train_state.safetensors"
    path.write_bytes(save({"x": __import__("torch").zeros(2)}))
    from stylebridge.training.checkpoint import load_training_state

    with pytest.raises(ModelFileError, match="not a stylebridge training state") as err:
        load_training_state(path)
    _one_line(err, path)
