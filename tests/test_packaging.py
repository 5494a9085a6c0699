"""What a plain ``pip install stylebridge`` brings: every module the package imports is a
declared dependency, and a missing optional extra ends in the one-line install hint."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from typer.testing import CliRunner

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "stylebridge"
# optional modules and the extra that installs each; imported only through require_extra
OPTIONAL = {
    "gradio": "web",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "onnxscript": "onnx",
    "ray": "cluster",
}


def _canonical(requirement: str) -> str:
    name = re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _imported_top_level_modules() -> dict[str, Path]:
    """Third-party top-level module -> the first file that imports it."""
    found: dict[str, Path] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "stylebridge" and top not in sys.stdlib_module_names:
                    found.setdefault(top, path)
    return found


def test_every_imported_package_is_a_declared_dependency():
    declared = {_canonical(r) for r in _project()["dependencies"]}
    distributions = packages_distributions()
    undeclared = []
    for module, path in _imported_top_level_modules().items():
        if module in OPTIONAL:
            continue
        names = {_canonical(d) for d in distributions.get(module, [module])}
        if not names & declared:
            undeclared.append(f"{module} ({path.relative_to(ROOT)})")
    assert not undeclared, f"imported but not in [project].dependencies: {undeclared}"


def test_optional_modules_are_in_their_extra():
    extras = {k: {_canonical(r) for r in v} for k, v in _project()["optional-dependencies"].items()}
    for module, extra in OPTIONAL.items():
        assert module in extras[extra], f"{module} is not in the [{extra}] extra"


def test_optional_modules_are_only_imported_through_the_hint():
    """A module-level import of an extra outside its own subpackage would break plain installs;
    ``web/`` itself is imported by the ``web`` command only after the hint check."""
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.parent.name == "web":
            continue
        for node in ast.parse(path.read_text()).body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module.split(".")[0]]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n in OPTIONAL]
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("args", "module", "extra"),
    [
        (["web", "--port", "7999"], "gradio", "web"),
        (["export", "ukiyoe_look", "--onnx", "x.onnx"], "onnx", "onnx"),
    ],
)
def test_missing_extra_is_one_line_naming_the_extra(monkeypatch, tmp_path, args, module, extra):
    from stylebridge.cli import app
    from stylebridge.errors import ConfigError

    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails as if absent
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        CliRunner().invoke(app, args, catch_exceptions=False)
    message = str(err.value)
    assert "\n" not in message
    assert message.endswith(f"pip install 'stylebridge[{extra}]'"), message
    assert not (tmp_path / "x.onnx").exists()


def test_a_broken_installed_extra_is_not_reported_as_missing(monkeypatch, tmp_path):
    from stylebridge.errors import require_extra

    package = tmp_path / "installed_but_broken"
    package.mkdir()
    (package / "__init__.py").write_text("import its_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="its_missing_dependency"):
        require_extra("installed_but_broken", "web", "The web UI")


def test_shipped_projections_are_package_data():
    """Every fixed analysis space ships in the wheel (a plain install loads them from there)."""
    import fnmatch

    from stylebridge.analysis import projection

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["stylebridge"]
    for space in projection.SPACES.values():
        relative = space.file.relative_to(SOURCE).as_posix()
        assert space.file.is_file() and any(fnmatch.fnmatch(relative, p) for p in patterns)
