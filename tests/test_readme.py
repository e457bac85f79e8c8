"""The README promises only what exists: its Python runs, its commands and paths are real."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_library_example_runs_and_learns_xor(tmp_path, monkeypatch, capsys):
    (code,) = [block for block in python_blocks() if "nncore.lab" not in block]
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["history"].history["loss"][-1] < 0.001
    assert (tmp_path / "xor.npz").exists()
    assert "Total parameters: 13" in capsys.readouterr().out


def test_the_session_example_runs_and_learns_xor(capsys):
    (code,) = [block for block in python_blocks() if "nncore.lab" in block]
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    session = namespace["session"]
    assert session.status == "finished" and session.verdict["kind"] == "learned"
    assert "Finished · Epoch 1000 / 1000" in capsys.readouterr().out


def test_every_path_and_command_it_names_exists():
    folders = "scripts|examples|nncore|web|app|docs|tests|benchmarks"
    for path in re.findall(r"`((?:%s)/[\w./-]*)`" % folders, README):
        assert (ROOT / path.rstrip("/")).exists(), path
    for image in re.findall(r"\]\((docs/[\w.]+)\)", README):
        assert (ROOT / image).exists(), image
    for example in re.findall(r"python (examples/\w+\.py)", README):
        assert (ROOT / example).exists(), example
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()
