"""Fault injection: files crafted or damaged by someone else, as a hostile but realistic user would hand them over.
Every case asserts the exit code (or the exception), a one-line message, that nothing ran, and an intact run."""
import json, os, pickle, subprocess, sys
from pathlib import Path
import pytest, torch
import bnn_toolkit as bt
from bnn_toolkit.training import UnsafeFileError

BIN = Path(sys.executable).parent

def cmd(name, *args, **kw):
    return subprocess.run([str(BIN / name), *map(str, args)], capture_output=True, text=True, timeout=600, **kw)

class Payload:
    "Unpickling this calls os.system: what a crafted checkpoint does"
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    "A real, tiny, finished run with model.pt and checkpoint.pt"
    d = tmp_path_factory.mktemp('store') / 'run'
    bt.train(model='FullyConnected', fc_widths=[16], epochs=1, limit_batches=2, bs=32, seed=0, out=str(d), save=True,
             progress=False, wandb='disabled')
    return d

@pytest.fixture
def crafted(run_dir, tmp_path):
    "A copy of the run whose checkpoint.pt and model.pt carry a payload; returns (run, marker file)"
    import shutil
    d, marker = tmp_path / 'store' / 'run', tmp_path / 'pwned'
    shutil.copytree(run_dir, d, ignore=shutil.ignore_patterns('.lock'))
    for f in ('checkpoint.pt', 'model.pt'):
        state = torch.load(run_dir / f, weights_only=True)
        torch.save({**state, 'evil': Payload(marker)}, d / f)
    return d, marker

def test_resume_refuses_a_crafted_checkpoint(crafted):
    d, marker = crafted
    r = cmd('bnn-train', '--resume', d, '--epochs', '2')
    assert r.returncode == 2 and r.stderr.count('\n') == 1, r.stderr
    assert 'refusing to open' in r.stderr and 'checkpoint.pt' in r.stderr, r.stderr
    assert not marker.exists()

def test_export_refuses_a_crafted_model(crafted, tmp_path):
    d, marker = crafted
    r = cmd('bnn-export', d, tmp_path / 'out.npz')
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'refusing to open' in r.stderr, r.stderr
    assert not marker.exists() and not (tmp_path / 'out.npz').exists()

def test_load_run_refuses_a_crafted_model(crafted):
    d, marker = crafted
    with pytest.raises(UnsafeFileError, match='refusing to open .*model.pt: it would call posix.system'):
        bt.load_run(d).model
    with pytest.raises(UnsafeFileError): bt.load_run(d).rule_state
    assert not marker.exists()

def test_explorer_opens_a_store_with_a_crafted_run(crafted):
    from bnn_toolkit.explorer import Explorer, results_table
    d, marker = crafted
    ex = Explorer(d.parent)
    assert [r.name for r in ex.selected] == ['run'] or ex.selected == []
    results_table(bt.list_runs(d.parent))
    assert not marker.exists()

def test_safe_files_still_open(run_dir):
    "The files training writes open with weights_only=True, and resume continues from them"
    for f in ('checkpoint.pt', 'model.pt'): torch.load(run_dir / f, weights_only=True)
    assert bt.load_run(run_dir).weights_source == 'model.pt (step 2)'

@pytest.mark.parametrize('damage', ['truncate', 'empty', 'garbage'])
def test_damaged_checkpoint_is_one_line(run_dir, tmp_path, damage):
    import shutil
    d = tmp_path / 'run'; shutil.copytree(run_dir, d, ignore=shutil.ignore_patterns('.lock'))
    ck = d / 'checkpoint.pt'
    data = ck.read_bytes()
    ck.write_bytes({'truncate': data[:len(data) // 2], 'empty': b'', 'garbage': os.urandom(300)}[damage])
    r = cmd('bnn-train', '--resume', d, '--epochs', '2')
    assert r.returncode == 2 and r.stderr.count('\n') == 1, r.stderr
    assert 'checkpoint.pt' in r.stderr and ('damaged' in r.stderr or 'refusing' in r.stderr), r.stderr

@pytest.mark.parametrize('name', ['config.json', 'summary.json'])
def test_damaged_json_names_the_file(run_dir, tmp_path, name):
    import shutil
    d = tmp_path / 'run'; shutil.copytree(run_dir, d, ignore=shutil.ignore_patterns('.lock'))
    (d / name).write_text('{"status": ')
    r = cmd('bnn-train', '--resume', d, '--epochs', '2')
    assert r.returncode == 2 and r.stderr.count('\n') == 1, r.stderr
    assert f'{name} is damaged' in r.stderr, r.stderr

def test_crafted_cifar_batch_runs_nothing(tmp_path):
    folder, marker = tmp_path / 'cifar-10-batches-py', tmp_path / 'pwned'
    folder.mkdir()
    for f in bt.data.CIFAR10_FILES:
        with open(folder / f, 'wb') as fh: pickle.dump({b'data': Payload(marker), b'labels': []}, fh)
    r = cmd('bnn-train', '--cifar10', '--data-root', tmp_path, '--no-wandb', '--epochs', '1', '--out', tmp_path / 'run')
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'refusing to read' in r.stderr, r.stderr
    assert not marker.exists()
