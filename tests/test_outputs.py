"""No command overwrites its inputs, and a refused write is one line: stylize, export, anonymize."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import stylebridge
from stylebridge import fileio
from stylebridge.errors import StylebridgeError
from stylebridge.fileio import OutputError, atomic_write, check_outputs

from .badinputs import digests, good_image, inject_write_fault
from .test_cli import _run

pytestmark = pytest.mark.usefixtures("one_thread")


def _one_line(result) -> str:
    """The message a user sees: main() prints a StylebridgeError as one line."""
    text = str(result) if isinstance(result, StylebridgeError) else result.output
    assert "Traceback" not in text
    return text


def test_stylize_onto_its_own_input_is_refused(tiny_run, tmp_path):
    photo = good_image(tmp_path / "in.jpg")
    before = digests(tmp_path)
    error = _run("stylize", str(tiny_run), str(photo), "-o", str(photo))
    assert isinstance(error, OutputError) and "is one of the inputs" in str(error)
    assert str(photo) in _one_line(error)
    error = _run("stylize", str(tiny_run), str(photo), "-o", str(photo), "--overwrite")
    assert isinstance(error, OutputError), "--overwrite never replaces an input"
    assert digests(tmp_path) == before


def test_stylize_onto_an_input_through_a_link_is_refused(tiny_run, tmp_path):
    photo = good_image(tmp_path / "photos" / "a.png")
    (tmp_path / "alias.png").symlink_to(photo)
    before = digests(tmp_path / "photos")
    error = _run("stylize", str(tiny_run), str(photo), "-o", str(tmp_path / "alias.png"))
    assert isinstance(error, OutputError) and "is one of the inputs" in str(error)
    assert digests(tmp_path / "photos") == before


def test_stylize_a_folder_into_itself_is_refused(tiny_run, tmp_path):
    folder = tmp_path / "photos"
    good_image(folder / "a.png", 1)
    good_image(folder / "b.jpg", 2)
    before = digests(folder)
    for out in (folder, tmp_path / "." / "photos"):
        error = _run("stylize", str(tiny_run), str(folder), "-o", str(out), "--overwrite")
        assert isinstance(error, OutputError) and "holds input images" in _one_line(error)
    assert digests(folder) == before


def test_existing_outputs_need_overwrite_and_are_named(tiny_run, tmp_path):
    folder = tmp_path / "photos"
    good_image(folder / "a.png", 1)
    good_image(folder / "b.png", 2)
    out = tmp_path / "out"
    assert _run("stylize", str(tiny_run), str(folder), "-o", str(out)).exit_code == 0
    first = digests(out)
    error = _run("stylize", str(tiny_run), str(folder), "-o", str(out))
    assert isinstance(error, OutputError)
    assert (
        str(out / "a.png") in str(error) and "1 more" in str(error) and "--overwrite" in str(error)
    )
    assert digests(out) == first
    result = _run("stylize", str(tiny_run), str(folder), "-o", str(out), "--overwrite")
    assert result.exit_code == 0, _one_line(result)


def test_an_output_written_meanwhile_by_another_run_is_kept(tiny_run, tmp_path, monkeypatch):
    """Two runs into one folder: the check at the start passes for both, then the other run
    writes b.png first; ours must not replace it, must say so, and must write the rest."""
    folder = tmp_path / "photos"
    for i, name in enumerate("abc"):
        good_image(folder / f"{name}.png", i)
    out = tmp_path / "out"
    model = stylebridge.load(tiny_run)
    real = model.stylize

    def stylize_while_another_run_writes(image, **options):
        if Path(getattr(image, "path", image)).name == "b.png":  # a path or a loaded image
            (out / "b.png").write_bytes(b"the other run's output")
        return real(image, **options)

    monkeypatch.setattr(model, "stylize", stylize_while_another_run_writes)
    results = {r.source.name: r for r in model.stylize_files([folder], out)}
    assert (out / "b.png").read_bytes() == b"the other run's output"
    assert results["b.png"].error and "already exists" in results["b.png"].error
    assert str(out / "b.png") in results["b.png"].error
    assert results["a.png"].output and results["c.png"].output
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no temporary file left"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_stylize_on_a_full_or_read_only_disk_is_one_line_per_file(
    tiny_run, tmp_path, monkeypatch, code
):
    folder = tmp_path / "photos"
    good_image(folder / "a.png", 1)
    good_image(folder / "b.png", 2)
    inject_write_fault(monkeypatch, code)
    result = _run("stylize", str(tiny_run), str(folder), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    text = _one_line(result)
    for name in ("a.png", "b.png"):
        assert f"{tmp_path / 'out' / name}: cannot write ({os.strerror(code)})" in text
    assert "0 of 2 image(s) written" in text
    assert not list((tmp_path / "out").iterdir()), "no half-written or temporary file left"


def test_stylize_with_an_output_under_a_file_is_one_line(tiny_run, tmp_path):
    photo = good_image(tmp_path / "a.png")
    (tmp_path / "blocker").write_text("a file, not a folder")
    result = _run("stylize", str(tiny_run), str(photo), "-o", str(tmp_path / "blocker" / "o.png"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'blocker' / 'o.png'}: cannot write" in _one_line(result)


def test_export_never_replaces_a_photo_or_an_existing_file(tiny_run, tmp_path):
    photo = good_image(tmp_path / "photo.jpg")
    before = digests(tmp_path)
    for extra in ((), ("--overwrite",)):
        error = _run("export", str(tiny_run), "--onnx", str(photo), *extra)
        assert isinstance(error, OutputError) and ".onnx file" in str(error)
    old = tmp_path / "old.onnx"
    old.write_bytes(b"an earlier export")
    error = _run("export", str(tiny_run), "--onnx", str(old), "--exporter", "torchscript")
    assert isinstance(error, OutputError) and "already exists" in str(error)
    assert old.read_bytes() == b"an earlier export"
    assert {k: v for k, v in digests(tmp_path).items() if k != "old.onnx"} == before


def test_export_on_a_full_disk_is_one_line_and_leaves_nothing(tiny_run, tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    inject_write_fault(monkeypatch, errno.ENOSPC)
    target = tmp_path / "g.onnx"
    error = _run("export", str(tiny_run), "--onnx", str(target), "--exporter", "torchscript")
    assert isinstance(error, OutputError)
    assert str(error) == f"{target}: cannot write ({os.strerror(errno.ENOSPC)})"
    assert list(tmp_path.iterdir()) == []


def test_anonymize_into_its_input_folder_is_refused(tmp_path):
    folder = tmp_path / "street"
    good_image(folder / "a.png")
    before = digests(folder)
    with pytest.raises(OutputError, match="holds input images"):
        stylebridge.api.anonymize([folder], folder)
    assert digests(folder) == before


def test_check_outputs_sees_hard_links_and_accepts_new_files(tmp_path):
    source = good_image(tmp_path / "a.png")
    os.link(source, tmp_path / "b.png")
    with pytest.raises(OutputError, match="one of the inputs"):
        check_outputs([tmp_path / "b.png"], [source], overwrite=True)
    check_outputs([tmp_path / "new.png"], [source])  # nothing there yet: fine


def test_atomic_write_never_clobbers_when_asked(tmp_path):
    target = tmp_path / "x.bin"
    atomic_write(target, b"first")
    with pytest.raises(OutputError, match="already exists"):
        atomic_write(target, b"second", replace=False)
    assert target.read_bytes() == b"first"
    atomic_write(target, b"third")
    assert target.read_bytes() == b"third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]


def test_the_fault_injector_reaches_every_writer(tmp_path, monkeypatch):
    inject_write_fault(monkeypatch, errno.ENOSPC)
    with pytest.raises(OutputError, match="No space left"):
        fileio.atomic_write(tmp_path / "x.bin", b"0123456789")
    assert list(tmp_path.iterdir()) == []


def test_manifest_replaces_only_an_earlier_manifest(tmp_path):
    folder = tmp_path / "corpus"
    photo = good_image(folder / "a.png")
    (tmp_path / "labels.csv").write_text("file,label\na.png,ukiyoe\n")
    before = digests(tmp_path)
    for target, expected in ((photo, ".csv file"), (tmp_path / "labels.csv", "not a manifest")):
        error = _run("data", "manifest", str(folder), "-o", str(target))
        assert isinstance(error, OutputError) and expected in str(error)
        assert str(target) in _one_line(error)
    assert digests(tmp_path) == before
    for _ in range(2):  # writing, then refreshing, its own manifest is fine
        result = _run("data", "manifest", str(folder), "-o", str(tmp_path / "m.csv"))
        assert result.exit_code == 0, _one_line(result)


def test_recolor_never_writes_over_the_pattern(tmp_path):
    pattern = good_image(tmp_path / "pattern.png", 1)
    palette = good_image(tmp_path / "palette" / "p.png", 2)
    before = digests(tmp_path)
    for out in (pattern, tmp_path / "palette" / "p.png"):
        error = _run(
            "design", "recolor", str(pattern), "--palette-from", str(palette), "-o", str(out)
        )
        assert isinstance(error, OutputError) and "is one of the inputs" in str(error)
    assert digests(tmp_path) == before


def test_training_into_a_path_under_a_file_is_one_line_before_any_work(tmp_path, domains):
    (tmp_path / "blocker").write_text("a file, not a folder")
    out = tmp_path / "blocker" / "run"
    with pytest.raises(OutputError) as err:
        stylebridge.train(
            "cyclegan", domain_a=str(domains[0]), domain_b=str(domains[1]), out=str(out), steps=1
        )
    blocker = tmp_path / "blocker"
    assert (
        str(err.value) == f"{out}: cannot create the run folder ({blocker} is a file, not a folder)"
    )


def _refused(result, name: str, problem: str) -> str:
    """A refusal before any work: one line naming the file."""
    assert isinstance(result, OutputError), getattr(result, "output", result)
    message = _one_line(result)
    assert name in message and problem in message and "\n" not in message
    return message


def test_pairs_refuse_an_existing_pairs_folder_without_overwrite(tmp_path):
    source = tmp_path / "paintings"
    good_image(source / "p.png", 1)
    out = tmp_path / "pairs"
    args = ["data", "pairs", "--edges", str(source), "-o", str(out), "--size", "32"]
    assert _run(*args).exit_code == 0
    first = digests(out)
    _refused(_run(*args), str(out / "a" / "p_00000.png"), "--overwrite")
    assert digests(out) == first
    assert _run(*args, "--overwrite").exit_code == 0
    inside = source / "a"  # pairs written where their paintings are: never over a painting
    good_image(inside / "p.png", 2)  # its drawing would be a/p_00000.png, the next painting
    good_image(inside / "p_00000.png", 3)
    before = digests(source)
    args = ["data", "pairs", "--edges", str(inside), "-o", str(source), "--size", "32"]
    _refused(_run(*args, "--overwrite"), "p_00000.png", "is one of the inputs")
    assert digests(source) == before


def test_garment_and_variants_never_replace_the_mask_and_need_overwrite(tiny_run, tmp_path):
    photo = good_image(tmp_path / "look.png", 1, (64, 64))
    out = tmp_path / "out"
    mask_name = f"look_{tiny_run.name}_mask.png"
    mask = good_image(out / mask_name, 2, (64, 64))  # where the garment's mask goes
    other_mask = good_image(tmp_path / "m.png", 3, (64, 64))
    before = digests(tmp_path)
    garment = ["design", "garment", str(photo), "-s", str(tiny_run), "-o", str(out)]
    error = _run(*garment, "--mask", str(mask), "--overwrite")
    _refused(error, mask_name, "is one of the inputs")
    assert digests(tmp_path) == before
    garment += ["--mask", str(other_mask)]
    _refused(_run(*garment), mask_name, "already exists")
    assert digests(tmp_path) == before
    assert _run(*garment, "--overwrite").exit_code == 0
    out = tmp_path / "variants"
    variants = ["design", "variants", str(photo), "--styles", str(tiny_run), "-o", str(out)]
    assert _run(*variants).exit_code == 0
    written = digests(out)
    _refused(_run(*variants), "variants.png", "(and 1 more output(s)); use --overwrite")
    assert digests(out) == written
    assert _run(*variants, "--overwrite").exit_code == 0


def test_pattern_refuses_existing_patterns_before_training(tmp_path):
    motif = good_image(tmp_path / "motifs" / "m.png", 1, (96, 96))
    out = tmp_path / "out"
    good_image(out / "pattern_seed0.png", 2, (96, 96))
    before = digests(tmp_path)
    args = ["design", "pattern", str(motif), "-o", str(out), "--seeds", "1", "--size", "32"]
    _refused(_run(*args, "--steps", "1"), "pattern_seed0.png", "--overwrite")
    assert not (out / "texture_model").exists(), "refused before training"
    args = ["design", "pattern", str(out / "pattern_seed0.png"), "-o", str(out), "--seeds", "1"]
    _refused(_run(*args, "--overwrite", "--steps", "1"), "pattern_seed0.png", "one of the inputs")
    assert digests(tmp_path) == before


def test_recolor_needs_overwrite_for_an_earlier_result(tmp_path):
    pattern = good_image(tmp_path / "pattern.png", 1)
    palette = good_image(tmp_path / "palette" / "p.png", 2)
    args = ["design", "recolor", str(pattern), "--palette-from", str(palette.parent)]
    args += ["-o", str(tmp_path / "r.png")]
    assert _run(*args).exit_code == 0
    first = digests(tmp_path)
    _refused(_run(*args), "r.png", "already exists (and 1 more")
    assert digests(tmp_path) == first
    assert _run(*args, "--overwrite").exit_code == 0


def test_analyze_never_writes_into_a_corpus_and_keeps_an_earlier_report(tiny_run, tmp_path):
    """Both refusals come before any image is described or translated."""
    cultures = [tmp_path / "a", tmp_path / "b"]
    for i, folder in enumerate(cultures):
        good_image(folder / f"x{i}.png", i)
    report = tmp_path / "report"
    (report / "index.html").parent.mkdir()
    (report / "index.html").write_text("an earlier report")
    before = digests(tmp_path)
    corpus = ["analyze", "corpus", *map(str, cultures), "--workers", "1"]
    _refused(_run(*corpus, "-o", str(cultures[0]), "--overwrite"), "a", "holds input images")
    _refused(_run(*corpus, "-o", str(report)), "index.html", "--overwrite")
    translation = ["analyze", "translation", str(tiny_run), "--source", str(cultures[0])]
    translation += ["--target", str(cultures[1])]
    _refused(_run(*translation, "-o", str(report)), "index.html", "--overwrite")
    _refused(_run(*translation, "-o", str(cultures[1]), "--overwrite"), "b", "holds input")
    assert digests(tmp_path) == before
