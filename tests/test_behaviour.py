"Behaviours users expect, checked from the outside: a failed dataset download, PNG export on a plain install."
import sys
from pathlib import Path
from urllib.error import URLError

import pytest

from bnn_toolkit.data import DATASETS, DatasetNotFoundError, DatasetSpec, locate_dataset, register_dataset

TOY_LAYOUT = 'the files a.bin and b.bin'
TOY_URL = 'https://example.org/toy-set.tar'

def find_toy(folder:Path): return folder if all((folder/f).is_file() for f in ('a.bin', 'b.bin')) else None

@pytest.fixture
def toy_dataset(monkeypatch):
    "Registers 'toy-set' with the download function given; removes it from DATASETS afterwards."
    monkeypatch.delenv('BNN_DATA_TOY_SET', raising=False)
    def register(download):
        download.source = TOY_URL
        return register_dataset(DatasetSpec('toy-set', 2, find_toy, lambda folder: folder, TOY_LAYOUT,
                                            download=download, how_to='copy it from the lab share'))
    yield register
    DATASETS.pop('toy-set', None)

def offline(folder:Path):
    "A download that writes part of the dataset, then loses the network."
    folder.mkdir(parents=True, exist_ok=True)     # as torchvision's downloads do
    (folder/'a.bin').write_bytes(b'half')
    raise URLError('[Errno -3] Temporary failure in name resolution')

def partial(folder:Path):
    "A download that 'succeeds' but leaves one file out (a server that returned an incomplete archive)."
    folder.mkdir(parents=True, exist_ok=True)
    (folder/'a.bin').write_bytes(b'half')

def complete(folder:Path):
    complete.folders.append(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for f in ('a.bin', 'b.bin'): (folder/f).write_bytes(f.encode())
complete.folders = []

def test_failed_download_leaves_no_folder_and_says_what_failed(tmp_path, toy_dataset):
    toy_dataset(offline)
    target = tmp_path/'data'/'toy-set'       # neither data/ nor data/toy-set exists yet
    for attempt in range(2):                 # the second attempt fails the same way, not with "exists, but ..."
        with pytest.raises(DatasetNotFoundError) as e: locate_dataset('toy-set', target, download=True)
        msg = str(e.value)
        assert '\n' not in msg, msg
        for part in ("'toy-set'", TOY_URL, 'URLError: <urlopen error [Errno -3] Temporary failure in name resolution>',
                     'copy it from the lab share', '--data-root DIR'):
            assert part in msg, (part, msg)
        assert 'exists, but' not in msg, msg
        assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob('*'))

def test_failed_download_leaves_an_existing_folder_as_it_was(tmp_path, toy_dataset):
    toy_dataset(offline)
    target = tmp_path/'toy-set'; target.mkdir(); (target/'README').write_text('mine')
    with pytest.raises(DatasetNotFoundError, match='URLError'): locate_dataset('toy-set', target, download=True)
    assert [p.name for p in tmp_path.iterdir()] == ['toy-set']
    assert [p.name for p in target.iterdir()] == ['README'] and (target/'README').read_text() == 'mine'

def test_incomplete_download_is_not_kept(tmp_path, toy_dataset):
    toy_dataset(partial)
    target = tmp_path/'toy-set'
    with pytest.raises(DatasetNotFoundError) as e: locate_dataset('toy-set', target, download=True)
    msg = str(e.value)
    assert '\n' not in msg and TOY_LAYOUT in msg and TOY_URL in msg and '--data-root DIR' in msg, msg
    assert list(tmp_path.iterdir()) == []

@pytest.mark.parametrize('existing', [False, True])
def test_complete_download_is_moved_into_place(tmp_path, toy_dataset, existing):
    toy_dataset(complete)
    target = tmp_path/'data'/'toy-set'
    if existing: target.mkdir(parents=True); (target/'README').write_text('mine')
    complete.folders.clear()
    found = locate_dataset('toy-set', target, download=True)
    assert found == (target, target)
    staging, = complete.folders                # downloaded next to the target, under a hidden name
    assert staging.parent == target.parent and staging.name.startswith('.toy-set.download-') and not staging.exists()
    assert sorted(p.name for p in target.iterdir()) == ['README', 'a.bin', 'b.bin'][0 if existing else 1:]
    assert [p.name for p in target.parent.iterdir()] == ['toy-set']
    assert locate_dataset('toy-set', target) == (target, target)     # found without downloading again

def test_cli_reports_a_failed_download_in_one_line(tmp_path, toy_dataset, capsys):
    from bnn_toolkit.cli import main
    toy_dataset(offline)
    rc = main(['--dataset', 'toy-set', '--download', '--data-root', str(tmp_path/'data'/'toy-set'), '--no-wandb',
               '--no-progress', '--out', str(tmp_path/'run')])
    err = capsys.readouterr().err
    assert rc == 2 and err.count('\n') == 1 and err.startswith("bnn-train: error: Dataset 'toy-set'"), err
    assert 'URLError' in err and '--data-root DIR' in err, err
    assert list(tmp_path.iterdir()) == []

@pytest.fixture
def without_kaleido(monkeypatch):
    "`import kaleido` raises ImportError, as on an install without the plots extra."
    monkeypatch.setitem(sys.modules, 'kaleido', None)
    with pytest.raises(ImportError): import kaleido  # noqa: F401

@pytest.mark.parametrize('chrome', [False, True])
def test_png_export_without_kaleido_says_how_to_install_it(tmp_path, monkeypatch, without_kaleido, chrome):
    import plotly.graph_objects as go
    from bnn_toolkit.explorer import ChromeNotFoundError, save_figure
    if chrome: monkeypatch.setenv('BROWSER_PATH', '/usr/bin/chromium')
    else: monkeypatch.delenv('BROWSER_PATH', raising=False); monkeypatch.setenv('PATH', str(tmp_path/'bin'))
    fig = go.Figure(go.Scatter(y=[1, 3, 2]))
    with pytest.raises(ImportError) as e: save_figure(fig, tmp_path/'out'/'curves', formats=('html', 'png'))
    assert not isinstance(e.value, ChromeNotFoundError)
    msg = str(e.value)
    assert 'pip install "bnn_toolkit[plots]"' in msg and 'kaleido' in msg and 'HTML export works without it' in msg, msg
    assert not (tmp_path/'out').exists()      # nothing half-written
    assert [p.name for p in save_figure(fig, tmp_path/'out'/'curves', formats=('html',))] == ['curves.html']

def test_nbdev_clean_removes_outputs(tmp_path):
    "The outputs policy: nbdev_clean (settings.ini clear_all) strips outputs, so CI's clean check fails on a notebook with them"
    import json, subprocess
    root = Path(__file__).resolve().parents[1]
    nb = json.loads((root/'nbs'/'index.ipynb').read_text())
    code = next(c for c in nb['cells'] if c['cell_type'] == 'code')
    code['outputs'], code['execution_count'] = [{'output_type': 'stream', 'name': 'stdout', 'text': ['hello\n']}], 3
    dirty = tmp_path/'dirty.ipynb'
    dirty.write_text(json.dumps(nb))
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(dirty)], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    clean = json.loads(dirty.read_text())
    assert all(c.get('outputs', []) == [] and c.get('execution_count') is None for c in clean['cells'] if c['cell_type'] == 'code')

def test_committed_notebooks_carry_no_outputs_and_no_widget_state():
    "nbdev_clean keeps a notebook's widget state (metadata.widgets), which once made an executed launcher 108 MB: refuse it"
    import json
    root = Path(__file__).resolve().parents[1]
    for p in sorted((root/'nbs').glob('*.ipynb')):
        nb = json.loads(p.read_text())
        assert 'widgets' not in nb.get('metadata', {}), f"{p.name} carries widget state: delete metadata.widgets"
        assert not any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code'), f"{p.name} carries outputs"
