"""The netns role's wheel programs (roles/netns/files), run as the role runs them.

wheel_pack.py runs on the controller as a file, with the Python of
ansible-playbook; wheel_unpack.py runs on the host as `python -c`, with the
Python of the role's virtualenv (3.9 or later, no pip, no package index).
"""

import ast
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata

import pytest

FILES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'netns', 'files')
PACK = os.path.join(FILES, 'wheel_pack.py')
UNPACK = os.path.join(FILES, 'wheel_unpack.py')
VERSION = metadata.version('pyroute2')
# the role's netns_pyroute2_probe (vars/main.yml)
PROBE = "import importlib.metadata as m, pyroute2; print(m.version('pyroute2'))"
# how the role finds the wheel in what pip download or wheel_pack.py said (tasks/requirements_venv.yml)
SAVED = re.compile(r'(?:Saved|File was already downloaded) (\S+\.whl)')


def _pack(directory):
    result = subprocess.run([sys.executable, PACK, str(directory)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result


def _unpack(wheel, site):
    with open(UNPACK) as handle:
        program = handle.read().rstrip()  # as the file lookup hands it over
    return subprocess.run(
        [sys.executable, '-c', program, str(wheel), str(site)], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    directory = tmp_path_factory.mktemp('wheels') / 'cache'  # made by the program
    result = _pack(directory)
    return directory / f'pyroute2-{VERSION}-py3-none-any.whl', result


def test_the_programs_are_python_3_9():
    for path in (PACK, UNPACK):
        with open(path) as handle:
            ast.parse(handle.read(), path, feature_version=(3, 9))


def test_pack_says_where_the_wheel_is_as_pip_download_does(wheel):
    path, result = wheel
    assert SAVED.search(result.stdout).group(1) == str(path)
    assert sorted(os.listdir(path.parent)) == [path.name], 'no .part file is left'


def test_pack_holds_what_the_distribution_installed_under_site_packages(wheel):
    path, _result = wheel
    dist = metadata.distribution('pyroute2')
    installed = [f.as_posix() for f in dist.files if f.parts[0] != '..' and '__pycache__' not in f.parts]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        assert archive.read('pyroute2/__init__.py') == dist.locate_file('pyroute2/__init__.py').read_bytes()
    assert names == installed
    assert not [n for n in names if n.startswith('../') or '__pycache__' in n or n.endswith('.pyc')]
    assert f'pyroute2-{VERSION}.dist-info/METADATA' in names


def test_pack_fails_without_pyroute2(tmp_path):
    # -I: no user site, no PYTHONPATH; -S: no site-packages, so no pyroute2 either
    result = subprocess.run(
        [sys.executable, '-I', '-S', PACK, str(tmp_path / 'cache')], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert 'PackageNotFoundError' in result.stderr
    assert 'Saved' not in result.stdout


def _import_from(site):
    """The probe, with site as the only site-packages; and where pyroute2 came from."""
    code = PROBE + '; print(pyroute2.__file__)'
    result = subprocess.run(
        [sys.executable, '-I', '-S', '-c', f'import sys; sys.path.append({str(site)!r}); {code}'],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def _files(top):
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, _dirs, names in os.walk(top) for f in names)


def test_unpack_into_an_empty_site_packages(wheel, tmp_path):
    path, _result = wheel
    site = tmp_path / 'site-packages'
    site.mkdir()
    result = _unpack(path, site)
    assert result.returncode == 0, result.stderr
    assert (site / f'pyroute2-{VERSION}.dist-info').is_dir()
    version, where = _import_from(site)
    assert version == VERSION
    assert where == str(site / 'pyroute2' / '__init__.py')


def test_unpack_replaces_an_older_copy_and_leaves_the_rest(wheel, tmp_path):
    path, _result = wheel
    site = tmp_path / 'site-packages'
    (site / 'pyroute2').mkdir(parents=True)
    (site / 'pyroute2' / '__init__.py').write_text('raise ImportError("the old copy")\n')
    (site / 'pyroute2' / 'gone_in_this_version.py').write_text('')
    (site / 'pyroute2-0.7.1.dist-info').mkdir()
    (site / 'pyroute2-0.7.1.dist-info' / 'METADATA').write_text('Name: pyroute2\nVersion: 0.7.1\n')
    (site / 'other').mkdir()
    (site / 'other' / '__init__.py').write_text('')
    result = _unpack(path, site)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(site)) == sorted(['other', 'pyroute2', f'pyroute2-{VERSION}.dist-info'])
    assert not (site / 'pyroute2' / 'gone_in_this_version.py').exists()
    assert (site / 'other' / '__init__.py').exists(), 'another package stays'
    assert _import_from(site)[0] == VERSION


def test_unpack_removes_a_symlinked_copy_without_following_it(wheel, tmp_path):
    path, _result = wheel
    elsewhere = tmp_path / 'elsewhere' / 'pyroute2'
    elsewhere.mkdir(parents=True)
    (elsewhere / '__init__.py').write_text('')
    site = tmp_path / 'site-packages'
    site.mkdir()
    (site / 'pyroute2').symlink_to(elsewhere, target_is_directory=True)
    result = _unpack(path, site)
    assert result.returncode == 0, result.stderr
    assert not (site / 'pyroute2').is_symlink()
    assert (elsewhere / '__init__.py').exists(), 'what the link pointed to is left alone'
    assert _import_from(site)[0] == VERSION


def test_unpack_again_gives_the_same_files(wheel, tmp_path):
    path, _result = wheel
    site = tmp_path / 'site-packages'
    site.mkdir()
    assert _unpack(path, site).returncode == 0
    first = _files(site)
    assert _unpack(path, site).returncode == 0
    assert _files(site) == first
