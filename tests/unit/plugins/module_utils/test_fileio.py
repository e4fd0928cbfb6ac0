"""fileio: small files read whole and written atomically."""

import os
import stat

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio


def test_read_text_of_a_missing_file_is_none(tmp_path):
    assert fileio.read_text(str(tmp_path / 'nothing')) is None


def test_read_text_of_a_directory_raises(tmp_path):
    with pytest.raises(OSError):
        fileio.read_text(str(tmp_path))


def test_write_creates_the_directory_and_the_mode(tmp_path):
    path = str(tmp_path / 'a' / 'b' / 'file')
    fileio.write_atomically(path, 'one\n', mode=0o600)
    assert fileio.read_text(path) == 'one\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) & 0o700 == 0o700
    assert os.listdir(os.path.dirname(path)) == ['file']


def test_a_rewrite_replaces_the_file_by_rename(tmp_path):
    path = str(tmp_path / 'file')
    fileio.write_atomically(path, 'old')
    with open(path) as reader:
        fileio.write_atomically(path, 'new')
        # a reader that opened the old file keeps the old file whole
        assert reader.read() == 'old'
    assert fileio.read_text(path) == 'new'
    assert sorted(os.listdir(str(tmp_path))) == ['file']


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = str(tmp_path / 'file')
    fileio.write_atomically(path, 'old')
    with pytest.raises(TypeError):
        fileio.write_atomically(path, b'bytes are refused by a text file')
    assert fileio.read_text(path) == 'old'
    assert os.listdir(str(tmp_path)) == ['file']


def test_a_failed_rename_leaves_no_temp_file(tmp_path):
    # the target is a non-empty directory: rename() fails after the temp file is written
    path = tmp_path / 'taken'
    (path / 'inside').mkdir(parents=True)
    with pytest.raises(OSError):
        fileio.write_atomically(str(path), 'content')
    assert sorted(os.listdir(str(tmp_path))) == ['taken']


def test_remove_says_whether_there_was_a_file(tmp_path):
    path = str(tmp_path / 'file')
    fileio.write_atomically(path, 'x')
    os.symlink('/nonexistent', str(tmp_path / 'dangling'))
    assert fileio.remove(path) is True
    assert fileio.remove(path) is False
    assert fileio.remove(str(tmp_path / 'dangling')) is True
    assert os.listdir(str(tmp_path)) == []
    with pytest.raises(OSError):
        fileio.remove(str(tmp_path))
