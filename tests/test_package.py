"""setup.py's metadata: the package index's long description (absolute links) and the Development Status classifier.

Each test runs the real `python setup.py --long-description|--classifiers` in a temporary folder that holds a copy of
settings.ini (one setting changed where the test says) and a README.md written by the test. Building and installing the
sdist and the wheel is `.ci/package_check.sh` (a minute, needs PyPI for the build's setuptools)."""
import re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT_URL, BRANCH = 'https://github.com/bnn-toolkit/bnn_toolkit', 'main'

def setup_py(tmp_path, option:str, readme:str='# t\n', **settings)->str:
    "stdout of `setup.py OPTION` run in `tmp_path` with settings.ini (its `key = value` lines replaced by `settings`)"
    ini = (ROOT / 'settings.ini').read_text(encoding='utf-8')
    for key, value in {'git_url': GIT_URL, 'branch': BRANCH, **settings}.items():
        ini, n = re.subn(rf'^{key} *=.*$', f'{key} = {value}', ini, flags=re.M)
        assert n == 1, f"settings.ini has no single `{key} =` line"
    (tmp_path / 'settings.ini').write_text(ini, encoding='utf-8')
    (tmp_path / 'README.md').write_text(readme, encoding='utf-8')
    shutil.copy(ROOT / 'LICENSE', tmp_path)
    r = subprocess.run([sys.executable, str(ROOT / 'setup.py'), option], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout

README = """# proj

> summary with [a doc](docs/a.md) and ![a figure](docs/fig.png "Title").

See [this](./nbs/01_x.ipynb), [the web](https://example.org/x), [a section](#using-it), [root](/abs),
[mail](mailto:a@b.c) and [ref][r].

```bash
echo "[not a link](in/code.md)"
```

[r]: data/README.md
"""

def test_long_description_links_absolute(tmp_path):
    out = setup_py(tmp_path, '--long-description', README)
    blob, raw = f'{GIT_URL}/blob/{BRANCH}/', f'{GIT_URL}/raw/{BRANCH}/'
    assert out.startswith('# proj\n\nInstall: `pip install bnn_toolkit`'), out[:200]
    assert out.index('Install:') < out.index('> summary')
    assert f'[a doc]({blob}docs/a.md)' in out
    assert f'![a figure]({raw}docs/fig.png "Title")' in out          # images from raw, the title kept
    assert f'[this]({blob}nbs/01_x.ipynb)' in out                     # ./ dropped
    for kept in ['[the web](https://example.org/x)', '[a section](#using-it)', '[root](/abs)', '[mail](mailto:a@b.c)',
                 'echo "[not a link](in/code.md)"']:
        assert kept in out, kept
    assert f'[r]: {blob}data/README.md' in out

def test_long_description_of_this_readme(tmp_path):
    "the project's own README: no relative markdown link or image is left outside code blocks"
    out = setup_py(tmp_path, '--long-description', (ROOT / 'README.md').read_text(encoding='utf-8'))
    prose = re.sub(r'^```.*?^```', '', out, flags=re.M | re.S)
    targets = re.findall(r'\]\(([^)\s]+)', prose)
    assert targets and all(t.startswith(('https://', 'http://', '#', 'mailto:')) for t in targets), targets

def test_development_status(tmp_path):
    names = {1: 'Planning', 3: 'Alpha', 4: 'Beta', 7: 'Inactive'}
    for status, name in names.items():
        out = setup_py(tmp_path, '--classifiers', status=status)
        assert f'Development Status :: {status} - {name}\n' in out, (status, out)
