"The run store as a user meets it: killed runs resumed, concurrent runs, diverging runs, bad output directories."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent / 'bnn-train'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'WANDB': '0'}   # one thread: bit-identical runs
ARGS = ['--fashion-mnist', '--model', 'FullyConnected', '--fc-widths', '1024,1024,1024', '--fc-batchnorm',
        '--binary-act', '--binary-weights', '--rule', 'dfa', '--bs', '128', '--epochs', '3', '--limit-batches', '40',
        '--log-every', '1', '--seed', '3', '--no-progress']

def run(*args, **kw):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=600, env=ENV, **kw)

def records(path): return [json.loads(l) for l in Path(path).read_text().splitlines()]
def without_times(rs): return [{k: v for k, v in r.items() if 'time' not in k} for r in rs]

def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    whole, cut = tmp_path / 'whole', tmp_path / 'cut'
    assert run(*ARGS, '--out', str(whole)).returncode == 0
    p = subprocess.Popen([str(BIN), *ARGS, '--out', str(cut)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    steps, deadline = cut / 'steps.jsonl', time.time() + 300
    while time.time() < deadline:      # kill it in the middle of its second epoch
        if steps.exists() and len(steps.read_text().splitlines()) >= 55: break
        time.sleep(0.005)
    os.kill(p.pid, signal.SIGKILL); p.wait()
    s = json.loads((cut / 'summary.json').read_text())
    assert s['status'] == 'running' and s['epochs_run'] == 1, s          # really killed, mid epoch 2
    assert 55 <= len(records(steps)) < 80
    r = run('--resume', str(cut))
    assert r.returncode == 0, r.stderr
    assert without_times(records(cut / 'metrics.jsonl')) == without_times(records(whole / 'metrics.jsonl'))
    assert records(cut / 'steps.jsonl') == records(whole / 'steps.jsonl')
    sw, sc = (json.loads((d / 'summary.json').read_text()) for d in (whole, cut))
    assert without_times([sc]) == without_times([sw]) and sc['status'] == 'finished'

def test_two_concurrent_runs_in_one_store(tmp_path):
    args = ['--fashion-mnist', '--bs', '128', '--epochs', '1', '--limit-batches', '20', '--seed', '0', '--no-progress']
    ps = [subprocess.Popen([str(BIN), *args], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True) for _ in range(2)]
    assert [p.wait(timeout=600) for p in ps] == [0, 0], [p.stderr.read() for p in ps]
    import bnn_toolkit as bt
    runs = bt.list_runs(tmp_path / 'runs')
    assert len(runs) == 2 and len({r.name for r in runs}) == 2
    assert [r.status for r in runs] == ['finished', 'finished']
    assert runs[0].summary['final_accuracy'] == runs[1].summary['final_accuracy']   # same seed, same result

def test_two_runs_racing_for_one_directory(tmp_path):
    out = tmp_path / 'run'
    args = ['--fashion-mnist', '--bs', '128', '--epochs', '1', '--limit-batches', '20', '--no-progress', '--out', str(out)]
    ps = [subprocess.Popen([str(BIN), *args], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for _ in range(2)]
    rcs = sorted(p.wait(timeout=600) for p in ps)
    errs = [p.stderr.read() for p in ps]
    assert rcs == [0, 2], errs
    assert any('already holds a run' in e and e.count('\n') == 1 for e in errs), errs
    assert json.loads((out / 'summary.json').read_text())['status'] == 'finished'

def test_diverging_run_stops_and_is_marked_failed(tmp_path):
    out = tmp_path / 'run'
    r = run('--opt', 'SGD', '--lr', '1e37', '--epochs', '2', '--limit-batches', '20', '--log-every', '5', '--seed', '0',
            '--no-progress', '--out', str(out))
    assert r.returncode == 1
    assert r.stderr.count('\n') == 1 and 'NaN or infinite at step' in r.stderr, r.stderr
    s = json.loads((out / 'summary.json').read_text())
    assert s['status'] == 'failed' and 'NaN or infinite' in s['error']

@pytest.mark.parametrize('make_out, msg', [
    (lambda d: (d / 'file').write_text('') or d / 'file' / 'run', 'cannot write the run directory'),
])
def test_unwritable_output_directory(tmp_path, make_out, msg):
    r = run('--epochs', '1', '--out', str(make_out(tmp_path)))
    assert r.returncode == 2 and r.stderr.count('\n') == 1 and msg in r.stderr, r.stderr

def test_sigkill_at_random_points_then_resume_is_exact(tmp_path):
    "Several kill -9s at seeded random moments (short epochs: many land in claims and checkpoint writes), each resumed"
    import random
    args = [*ARGS[:ARGS.index('--epochs')], '--epochs', '6', '--limit-batches', '8', *ARGS[ARGS.index('--log-every'):]]
    whole, cut = tmp_path / 'whole', tmp_path / 'cut'
    assert run(*args, '--out', str(whole)).returncode == 0
    rng, kills = random.Random(0), 0
    for trial in range(4):
        cmd = [str(BIN), *args, '--out', str(cut)] if not (cut / 'config.json').exists() else [str(BIN), '--resume', str(cut)]
        p = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(3.0, 9.0))           # start-up takes a few seconds; then 48 steps of training
        if p.poll() is None: os.kill(p.pid, signal.SIGKILL); kills += 1
        p.wait()
        if (cut / 'summary.json').exists() and json.loads((cut / 'summary.json').read_text() or '{}').get('status') == 'finished': break
    assert kills >= 1
    r = run('--resume', str(cut)) if (cut / 'config.json').exists() else run(*args, '--out', str(cut))
    assert r.returncode == 0, r.stderr
    assert without_times(records(cut / 'metrics.jsonl')) == without_times(records(whole / 'metrics.jsonl'))
    assert records(cut / 'steps.jsonl') == records(whole / 'steps.jsonl')
    assert not list(cut.glob('.*.tmp'))
