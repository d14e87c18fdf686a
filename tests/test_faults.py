"""Fault injection: files crafted or damaged by someone else, as a hostile but realistic user would hand them over.
Every case asserts the exit code (or the exception), a one-line message, that nothing ran, and an intact run."""
import json, os, pickle, subprocess, sys
from pathlib import Path
import pytest, torch
import bnn_toolkit as bt
from bnn_toolkit.run_store import UnsafeFileError

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

# ---- signals, disk full, claims, temp files -------------------------------------------------------------------------
import signal, shutil, time

REAL = ['--fashion-mnist', '--model', 'FullyConnected', '--bs', '32', '--seed', '0', '--no-wandb']

def wait_for(cond, timeout=300):
    t0 = time.time()
    while not cond():
        if time.time() - t0 > timeout: raise TimeoutError
        time.sleep(0.2)

def test_sigterm_stops_cleanly_and_resumes(tmp_path):
    out = tmp_path / 'run'
    p = subprocess.Popen([str(BIN / 'bnn-train'), *REAL, '--epochs', '3', '--limit-batches', '400', '--log-every', '5',
                          '--out', str(out), '--no-progress'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: (out / 'metrics.jsonl').exists() and (out / 'metrics.jsonl').read_text().count('\n') >= 1
             and (out / 'steps.jsonl').read_text().count('\n') > 85)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143 and err.count('\n') == 1 and 'stopped by SIGTERM' in err, err
    assert json.loads((out / 'summary.json').read_text())['status'] == 'stopped'
    r = cmd('bnn-train', '--resume', out, '--no-progress')
    assert r.returncode == 0 and 'resuming' in r.stdout, r.stderr
    s = json.loads((out / 'summary.json').read_text())
    assert s['status'] == 'finished' and s['epochs_run'] == 3 and s['steps'] == 1200, s

def test_a_claim_cut_short_can_be_reused(tmp_path):
    "Before 0.2 a run was claimed by an empty summary.json, then config.json was written: a kill between left a dead end"
    out = tmp_path / 'run'; out.mkdir(); (out / 'summary.json').write_text('')
    r = cmd('bnn-train', *REAL, '--epochs', '1', '--limit-batches', '2', '--out', out, '--no-progress')
    assert r.returncode == 0, r.stderr
    assert json.loads((out / 'config.json').read_text())['rule'] == 'bp'

def test_stale_temp_files_are_removed_on_resume(run_dir, tmp_path):
    d = tmp_path / 'run'; shutil.copytree(run_dir, d, ignore=shutil.ignore_patterns('.lock'))
    (d / '.checkpoint.pt.99999.tmp').write_bytes(b'x' * 1000)
    r = cmd('bnn-train', '--resume', d, '--epochs', '2', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert not list(d.glob('.*.tmp'))

def _tmpfs(path, size):
    path.mkdir()
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}', 'tmpfs', str(path)], capture_output=True, text=True)
    if r.returncode != 0: pytest.skip(f"cannot mount a small tmpfs here ({r.stderr.strip() or r.returncode})")

def test_disk_full_is_one_line_and_resumable(tmp_path):
    small = tmp_path / 'small'; _tmpfs(small, '3m')     # config and metrics fit; the 4.5 MB checkpoint does not
    out = small / 'run'
    try:
        r = cmd('bnn-train', *REAL, '--epochs', '1', '--limit-batches', '2', '--out', out, '--no-progress')
        assert r.returncode == 1 and r.stderr.count('\n') == 1 and 'No space left' in r.stderr, r.stderr
        assert json.loads((out / 'summary.json').read_text())['status'] == 'failed'
        assert not list(out.glob('.*.tmp'))         # the cut checkpoint is not left to fill the disk again
        shutil.copytree(out, tmp_path / 'moved')    # "free space": continue it on a disk with room
    finally: subprocess.run(['umount', str(small)])
    r = cmd('bnn-train', '--resume', tmp_path / 'moved', '--no-progress')
    assert r.returncode == 0 and 'no checkpoint.pt: training it again from epoch 1' in r.stdout, r.stdout + r.stderr

def test_a_huge_loss_is_divergence():
    class Blowup(bt.training.Callback):
        def after_batch(self, t):
            if t.step == 4:
                with torch.no_grad(): t.model.output.weight.mul_(1e6)
    with pytest.raises(bt.training.TrainingDiverged, match='over --max-loss-factor 10000'):
        bt.train(model='FullyConnected', fc_widths=[16], bs=32, epochs=3, limit_batches=3, log_every=1, seed=0,
                 progress=False, wandb='disabled', callbacks=[Blowup()])

# ---- the table of bad values: one line each, exit 2, nothing written -------------------------------------------------
@pytest.mark.parametrize('args, msg', [
    (['--log-every', '0'], '--log-every must be at least 1'), (['--log-every', '-1'], '--log-every must be at least 1'),
    (['--fc-widths', '-5'], '--fc-widths must all be at least 1'), (['--fc-widths', '0,0'], '--fc-widths must all be'),
    (['--hsic-gamma', '-3'], '--hsic-gamma must be non-negative'), (['--early-stopping-delta', 'nan'], 'finite'),
    (['--out', ''], '--out must name a directory'), (['--remove-skips'], 'MobileNetV2 and MLPMixer'),
    (['--train-fraction', '0.99999'], 'keep at least 100 for validation'), (['--max-loss-factor', '0.5'], 'must exceed 1'),
    (['--device', 'cuda'], 'CUDA is not available'),
])
def test_bad_values_are_one_line(tmp_path, args, msg):
    out = tmp_path / 'run'
    r = cmd('bnn-train', '--no-wandb', '--epochs', '1', '--limit-batches', '1', *args,
            *([] if '--out' in args else ['--out', out]), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and msg in r.stderr, r.stderr
    assert not out.exists() and not (tmp_path / 'config.json').exists()

@pytest.mark.parametrize('kw, msg', [(dict(lr='0.1'), "lr must be a number"), (dict(model=3), 'model must be str'),
                                     (dict(binary_act='no'), 'binary_act must be bool')])
def test_bad_python_values_are_config_errors(kw, msg):
    with pytest.raises(bt.training.ConfigError, match=msg): bt.train(**kw)

def test_load_run_of_none():
    with pytest.raises(bt.runs.RunNotFoundError, match='a run directory is a path, got None'): bt.load_run(None)

def test_truncated_dataset_file(tmp_path):
    src = Path('/usr/share/datasets/fashion-mnist')
    for f in src.glob('*.gz'): shutil.copy(f, tmp_path / f.name)
    f = tmp_path / 'train-images-idx3-ubyte.gz'; f.write_bytes(f.read_bytes()[:100_000])
    r = cmd('bnn-train', '--fashion-mnist', '--data-root', tmp_path, '--no-wandb', '--out', tmp_path / 'run')
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and 'is truncated or corrupt' in r.stderr, r.stderr

@pytest.mark.parametrize('tamper', ['no_layers', 'bad_kind', 'missing_array'])
def test_tampered_packed_header(run_dir, tmp_path, tamper):
    import numpy as np
    from bnn_toolkit.export import export_packed, load_packed
    f = tmp_path / 'm.npz'; export_packed(bt.load_run(run_dir).model, f)
    with np.load(f) as a: arrays = {k: a[k] for k in a.files}
    h = json.loads(bytes(arrays['header']).decode())
    if tamper == 'no_layers': del h['layers']
    elif tamper == 'bad_kind': h['layers'][0] = 7
    else: arrays = {k: v for k, v in arrays.items() if k == 'header'}
    arrays['header'] = np.frombuffer(json.dumps(h).encode(), np.uint8)
    np.savez(f, **arrays)
    with pytest.raises(ValueError, match='is damaged or was edited by hand'): load_packed(f)

# ---- a sweep killed and restarted -------------------------------------------------------------------------------------
SWEEP = """program: bnn-train
name: killed
method: grid
command: [bnn-train, --fashion-mnist, --model, FullyConnected, --fc-widths, '256', --bs, '64', --epochs, '{epochs}',
          --limit-batches, '300', --no-wandb, --seed, '0', '${args_no_boolean_flags}']
parameters:
  lr: {values: [0.001]}
"""

def _sweep(tmp_path, *extra, epochs=3):
    f = tmp_path / 'killed.yaml'; f.write_text(SWEEP.replace('{epochs}', str(epochs)))
    return [str(BIN / 'bnn-sweep'), str(f), '--store', str(tmp_path / 'store'), '--workers', '1', *extra]

def _run_dir(tmp_path):
    found = list((tmp_path / 'store' / 'killed').glob('*/config.json'))
    return found[0].parent if found else None

def _kill_sweep_mid_run(tmp_path, *extra, epochs=3):
    "Start the sweep, wait until its run finished an epoch, SIGKILL bnn-sweep alone; return the run directory"
    p = subprocess.Popen(_sweep(tmp_path, *extra, epochs=epochs), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    def started():
        assert p.poll() is None, p.communicate()[0]
        return _run_dir(tmp_path) is not None and (_run_dir(tmp_path) / 'checkpoint.pt').exists()
    wait_for(started)
    p.kill(); p.wait()
    return _run_dir(tmp_path)

def _epochs(d): return [r['epoch'] for r in bt.run_store.read_jsonl(d / 'metrics.jsonl')]

def test_killed_sweep_stops_its_run_and_a_restart_resumes_it(tmp_path):
    d = _kill_sweep_mid_run(tmp_path)
    wait_for(lambda: not bt.sweeps.run_is_live(d), timeout=60)        # the child died with the sweep ...
    assert json.loads((d / 'summary.json').read_text())['status'] == 'stopped'   # ... cleanly
    done = len(_epochs(d)); assert done >= 1
    r = subprocess.run(_sweep(tmp_path), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '--resume' in (d / 'bnn-sweep.log').read_text()             # continued, not started again
    assert _epochs(d) == [1, 2, 3] and json.loads((d / 'summary.json').read_text())['status'] == 'finished'
    assert json.loads((d / 'config.json').read_text())['lr'] == 0.001

def test_detached_run_is_left_alone(tmp_path):
    "--detach: the run outlives a killed sweep; a restarted sweep does not touch it while it trains, and says so"
    d = _kill_sweep_mid_run(tmp_path, '--detach', epochs=200)          # long enough to outlive what follows
    try:
        assert bt.sweeps.run_is_live(d)                                # it outlived the sweep, on purpose
        p = subprocess.Popen(_sweep(tmp_path, epochs=200), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        for line in p.stdout:                                          # the restart parks the live run ...
            seen.append(line)
            if 'another process is training it' in line: break
        p.send_signal(signal.SIGINT); rest, _ = p.communicate(timeout=120)
        assert p.returncode == 130 and 'running elsewhere' in rest, ''.join(seen) + rest
        assert bt.sweeps.run_is_live(d)                                # ... and leaves it alone, even when interrupted
        assert 'bnn-train --resume' not in (d / 'bnn-sweep.log').read_text()   # no second process was started
        epochs = _epochs(d); assert epochs == list(range(1, len(epochs) + 1))
    finally:
        subprocess.run(['pkill', '-TERM', '-f', str(d)])
        wait_for(lambda: not bt.sweeps.run_is_live(d), timeout=60)
    assert json.loads((d / 'summary.json').read_text())['status'] == 'stopped'
