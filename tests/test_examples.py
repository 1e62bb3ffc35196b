"""The seed notebook end to end: every example script prints what the notebook shows, and the
notebook's own code runs with ``import funcgrad as torch`` and shows the same, cell by cell."""

from __future__ import annotations

import ast
import contextlib
import io
import math
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXPECTED = Path(__file__).resolve().parent / "expected"
SEED = ROOT.parent / "shared" / "seed" / "000_1aff67a1e2f7895d.txt"
NOTEBOOK_EXAMPLES = sorted(p.stem for p in EXPECTED.glob("*.txt"))
NON_LEAF_WARNING = "UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor"


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def run_all() -> subprocess.CompletedProcess:
    """One run of the README's first command, with the device flag passed through."""
    return run(EXAMPLES / "run_all.py", "--device", "cpu")


def sections(stdout: str) -> dict[str, str]:
    """run_all's output, split into each example's stdout by its ``== name.py ==`` line."""
    parts = re.split(r"^== (\S+)\.py ==\n", stdout, flags=re.M)
    return {name: body.rstrip("\n") + "\n" for name, body in zip(parts[1::2], parts[2::2])}


def test_run_all_names_backend_device_and_every_example(run_all):
    assert run_all.returncode == 0, run_all.stderr
    header = run_all.stdout.splitlines()[0]
    assert re.fullmatch(r"JAX backend: \w+, funcgrad device: cpu", header), header
    names = list(sections(run_all.stdout))
    numbered = sorted(p.stem for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert names[:len(numbered)] == numbered
    assert set(NOTEBOOK_EXAMPLES) < set(numbered)
    assert set(TRAINING_EXAMPLES) <= set(names[len(numbered):])


TRAINING_EXAMPLES = {
    "train_placement": "eager and compiled agree: max parameter difference",
    "train_mlp": "max parameter difference",
    "plot_derivatives": "stateful   face: max |f' - closed form|",
}


@pytest.mark.parametrize("name", sorted(TRAINING_EXAMPLES))
def test_training_examples_agree_and_save_their_pictures(run_all, name):
    out = sections(run_all.stdout)[name]
    assert TRAINING_EXAMPLES[name] in out
    for line in out.splitlines():
        if line.startswith("saved "):
            assert (ROOT / line.removeprefix("saved ")).stat().st_size > 10_000


@pytest.mark.parametrize("name", NOTEBOOK_EXAMPLES)
def test_example_prints_what_the_notebook_shows(run_all, name):
    expected = (EXPECTED / f"{name}.txt").read_text()
    assert sections(run_all.stdout).get(name) == expected


def test_non_leaf_grad_warning_is_visible(run_all):
    warning_lines = [line for line in run_all.stderr.splitlines() if NON_LEAF_WARNING in line]
    assert len(warning_lines) == 1 and "02_nested.py" in warning_lines[0], run_all.stderr


def closed_forms() -> dict[str, list[float]]:
    sigmoid = 1 / (1 + math.exp(-6.7))
    return {
        "d(x**2)/dx at x=3": [2 * 3.0],
        "d(sin(x**2))/dx at x=4": [2 * 4.0 * math.cos(16.0)],
        "dL/dw at w=1, b=0": [sigmoid * 6.7],  # dL/dz = sigmoid(z) - y, with y = 0
        "dL/db at w=1, b=0": [sigmoid],
        "d(mean(x**2))/dx at x=[1, 2, 3]": [2 * x / 3 for x in (1.0, 2.0, 3.0)],
        "d(x**2)/dx at x=2, asked twice": [4.0, 4.0],
        "d(stop_gradient(x)**2)/dx at x=2": [0.0],
    }


def test_functional_example_matches_closed_forms(run_all):
    got = {}
    for line in sections(run_all.stdout)["08_functional"].splitlines():
        label, _, text = line.rpartition(": ")
        value = ast.literal_eval(text)
        got[label] = value if isinstance(value, list) else [value]
    expected = closed_forms()
    assert got.keys() == expected.keys()
    for label, values in expected.items():
        assert got[label] == pytest.approx(values, rel=1e-6, abs=1e-7), label


def test_example_runs_alone_on_the_default_device():
    done = run(EXAMPLES / "01_square.py")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (EXPECTED / "01_square.txt").read_text()


def test_example_rejects_a_missing_device_and_lists_those_there_are():
    done = run(EXAMPLES / "01_square.py", "--device", "cuda:99")
    assert done.returncode == 2 and done.stdout == ""
    assert "argument --device: device 'cuda:99' is not available" in done.stderr
    assert "JAX sees these devices: " in done.stderr


def test_run_all_fails_when_an_example_fails(tmp_path):
    for helper in ("run_all.py", "_common.py"):
        shutil.copy(EXAMPLES / helper, tmp_path)
    (tmp_path / "01_boom.py").write_text("raise SystemExit('boom')\n")
    (tmp_path / "02_fine.py").write_text("print('fine')\n")
    done = run(tmp_path / "run_all.py")
    assert done.returncode == 1
    assert "== 02_fine.py ==\nfine\n" in done.stdout  # a failure does not stop the others
    assert "failed: 01_boom.py" in done.stderr


# ----- the notebook's own code, with `import torch` replaced --------------------------------------

CELL = re.compile(r"^In \[(\d+)\]:$", re.M)
OUTPUT = re.compile(r"tensor\(|-?\d+(\.\d+)?$|Manual Gradient|RuntimeError: |\s")


def is_code(paragraph: str) -> bool:
    if OUTPUT.match(paragraph):
        return False
    try:
        ast.parse(paragraph)
    except SyntaxError:  # the notebook's prose
        return False
    return True


def notebook_cells(text: str) -> list[tuple[str, str, str]]:
    """(label, code, shown output) for each ``In [n]:`` cell of the text dump.

    A cell's paragraphs are its code, then the paragraphs that look like output (the notebook
    shows reprs, numbers, printed lines, error lines and a warning's source line), then prose.
    """
    parts = CELL.split(text)
    cells = []
    for number, body in zip(parts[1::2], parts[2::2]):
        paragraphs = [p for p in re.split(r"\n\s*\n", body.strip("\n")) if p.strip()]
        n_code = next((i for i, p in enumerate(paragraphs) if not is_code(p)), len(paragraphs))
        shown = []
        for p in paragraphs[n_code:]:
            if is_code(p) or not OUTPUT.match(p):
                break
            shown.append(p)
        cells.append((f"In [{number}]", "\n\n".join(paragraphs[:n_code]), "\n".join(shown)))
    return cells


def run_cell(label: str, code: str, namespace: dict) -> str:
    """What Jupyter shows for a cell: printed lines, each warning's source line, the last
    line of an error, and the repr of a final expression unless it is None."""
    tree = ast.parse(code, label)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    shown, out = [], io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        try:
            exec(compile(tree, label, "exec"), namespace)
            value = None if last is None else eval(
                compile(ast.Expression(last.value), label, "eval"), namespace)
        except Exception as e:
            value, error = None, f"{type(e).__name__}: {e}".splitlines()[0]
        else:
            error = None
    shown += out.getvalue().splitlines()
    lines = code.splitlines()
    shown += [f"  {lines[w.lineno - 1].strip()}" for w in caught
              if w.filename == label and issubclass(w.category, UserWarning)]
    shown += [error] if error else []
    shown += [repr(value)] if value is not None else []
    return "\n".join(shown)


def test_notebook_cells_parse():
    if not SEED.exists():
        pytest.skip(f"the seed notebook is not at {SEED}")
    cells = notebook_cells(SEED.read_text())
    by_label = {label: (code, shown) for label, code, shown in cells}
    assert len(cells) == 66
    assert by_label["In [10]"][0].endswith("return 2 * x * math.cos(x**2)")
    assert by_label["In [11]"] == ("dz_dx(4)", "-7.661275842587077")
    assert by_label["In [20]"] == ("y.grad", "  y.grad")
    assert by_label["In [38]"][1] == "tensor(6.6918)\ntensor(0.9988)"


def test_notebook_runs_with_funcgrad_as_torch():
    if not SEED.exists():
        pytest.skip(f"the seed notebook is not at {SEED}")
    cells = notebook_cells(SEED.read_text())
    namespace: dict = {"__name__": "__notebook__"}
    got = []
    for label, code, _ in cells:
        code = re.sub(r"^import torch$", "import funcgrad as torch", code, flags=re.M)
        got.append((label, run_cell(label, code, namespace)))
    assert "torch" in namespace and namespace["torch"].__name__ == "funcgrad"
    assert got == [(label, shown) for label, _, shown in cells]
