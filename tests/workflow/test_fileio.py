"""Atomic writes: the user's umask (or the replaced file's mode), and no temporary file outliving the
write it belonged to."""

import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from vbpipe.fileio import atomic_open, write_json, write_npz


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda value: os.umask(value)
    os.umask(old)


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path, umask):
    write_json(tmp_path / "a.json", {"x": 1})
    write_npz(tmp_path / "a.npz", {"x": np.zeros(3)})
    assert mode(tmp_path / "a.json") == 0o644 and mode(tmp_path / "a.npz") == 0o644
    umask(0o002)
    write_json(tmp_path / "b.json", {"x": 1})
    assert mode(tmp_path / "b.json") == 0o664
    os.chmod(tmp_path / "a.json", 0o640)
    write_json(tmp_path / "a.json", {"x": 2})
    assert mode(tmp_path / "a.json") == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    with pytest.raises(RuntimeError), atomic_open(tmp_path / "a.json", "w") as handle:
        handle.write("half")
        raise RuntimeError("killed")
    assert (tmp_path / "a.json").read_text().strip() == '{\n  "x": 1\n}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    code = (
        "import os, sys; from vbpipe.fileio import atomic_open\n"
        f"cm = atomic_open({str(tmp_path / 'a.json')!r}, 'w'); h = cm.__enter__()\n"
        "h.write('x'); h.flush()\n"
        "os._exit(0)  # dies inside the write, as under SIGKILL\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    leftovers = list(tmp_path.glob(".a.json.*.tmp"))
    assert len(leftovers) == 1 and not (tmp_path / "a.json").exists()
    write_json(tmp_path / "a.json", {"x": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
