"One run over two processes (Gloo, CPU): torchrun as a user runs it, a killed rank, --resume; the exact float64 checks are in nbs/34_distributed.ipynb."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch

TORCHRUN = Path(sys.executable).parent / 'torchrun'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'WANDB': '0'}
QUICK = ['--fashion-mnist', '--model', 'FullyConnected', '--fc-widths', '64', '--bs', '128', '--seed', '0', '--no-wandb',
         '--no-progress', '--log-every', '1']

def torchrun(*args, nproc=2, **kw):
    return [str(TORCHRUN), '--nproc_per_node', str(nproc), '--master_port', str(_port()), '-m', 'bnn_toolkit.cli', *args]

def _port():
    from bnn_toolkit.distributed import free_port
    return free_port()

def without_times(rows): return [{k: v for k, v in r.items() if 'time' not in k} for r in rows]
def read_jsonl(p): return [json.loads(l) for l in Path(p).read_text().splitlines() if l.strip()]

def test_torchrun_trains_one_run_like_one_process(tmp_path):
    "2 processes x 64 samples = 1 process x 128 (float32: equal to rounding); rank 0 alone writes and prints"
    args = [*QUICK, '--epochs', '1', '--limit-batches', '10']
    r = subprocess.run(torchrun(*args, '--out', str(tmp_path / 'two')), capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('bnn-train: finished') == 1, r.stdout      # one rank reports
    one = subprocess.run([str(Path(sys.executable).parent / 'bnn-train'), *args, '--out', str(tmp_path / 'one')],
                         capture_output=True, text=True, env=ENV, timeout=120)
    assert one.returncode == 0, one.stderr
    a, b = read_jsonl(tmp_path / 'two' / 'metrics.jsonl'), read_jsonl(tmp_path / 'one' / 'metrics.jsonl')
    for k in ('train/loss', 'train/accuracy', 'validation/loss', 'validation/accuracy'):
        assert a[0][k] == pytest.approx(b[0][k], rel=1e-5), k
    w2 = torch.load(tmp_path / 'two' / 'checkpoint.pt', weights_only=True)['model']
    w1 = torch.load(tmp_path / 'one' / 'checkpoint.pt', weights_only=True)['model']
    assert all(torch.allclose(w2[k], w1[k], atol=1e-6) for k in w1)
    assert sorted(p.name for p in (tmp_path / 'two').iterdir()) == sorted(p.name for p in (tmp_path / 'one').iterdir())

def _rank_pid(parent:int, rank:int, timeout=60)->int:
    "The pid of torchrun's worker of `rank` (a child of the torchrun process)"
    end = time.time() + timeout
    while time.time() < end:
        for d in Path('/proc').iterdir():
            if not d.name.isdigit(): continue
            try:
                if int((d / 'stat').read_text().rsplit(')', 1)[1].split()[1]) != parent: continue
                if f'RANK={rank}'.encode() in (d / 'environ').read_bytes().split(b'\0'): return int(d.name)
            except (OSError, ValueError, IndexError): continue
        time.sleep(0.05)
    raise TimeoutError(f"no worker of rank {rank}")

@pytest.mark.skipif(not Path('/proc').is_dir(), reason='finds the worker processes through /proc')
def test_killed_rank_stops_the_run_and_resume_continues_it(tmp_path):
    args = [*QUICK, '--fc-widths', '256,256', '--epochs', '3', '--limit-batches', '30']
    whole = subprocess.run(torchrun(*args, '--out', str(tmp_path / 'whole')), capture_output=True, text=True, env=ENV, timeout=180)
    assert whole.returncode == 0, whole.stderr[-3000:]
    cut = tmp_path / 'cut'
    p = subprocess.Popen(torchrun(*args, '--out', str(cut)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        victim = _rank_pid(p.pid, 1)
        end = time.time() + 120
        while not ((cut / 'checkpoint.pt').exists() and (cut / 'steps.jsonl').exists()
                   and len((cut / 'steps.jsonl').read_text().splitlines()) >= 33):    # in the second epoch
            assert p.poll() is None and time.time() < end, 'the run ended before it could be killed'
            time.sleep(0.02)
        os.kill(victim, signal.SIGKILL)
        out, err = p.communicate(timeout=60)                  # the other rank stops within a minute
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode != 0
    assert 'bnn-train[rank 0]: stopped' in err and '--resume' in err, err[-3000:]
    s = json.loads((cut / 'summary.json').read_text())
    assert s['status'] != 'finished' and s['epochs_run'] in (1, 2), s
    r = subprocess.run(torchrun('--resume', str(cut), '--no-progress'), capture_output=True, text=True, env=ENV, timeout=180)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('resuming') == 1, r.stdout
    assert without_times(read_jsonl(cut / 'metrics.jsonl')) == without_times(read_jsonl(tmp_path / 'whole' / 'metrics.jsonl'))
    assert read_jsonl(cut / 'steps.jsonl') == read_jsonl(tmp_path / 'whole' / 'steps.jsonl')

def test_ranks_that_differ_fail_clearly():
    "The start-up check: ranks holding different tensors stop with one message naming what differs"
    from torch.multiprocessing import ProcessRaisedException
    from bnn_toolkit.distributed import run_ranks
    code = "init_distributed()\ncheck_same_on_all_ranks({'w': torch.ones(2), 'b': torch.tensor([float(dist.get_rank())])}, 'weights')"
    with pytest.raises(ProcessRaisedException, match='rank 1 and rank 0 hold different weights: b;'): run_ranks(exec, 2, code)

def test_every_rule_keeps_the_ranks_identical_on_a_continuous_network():
    "The notebook checks every rule on a fully binary network with BatchNorm; here the continuous one"
    from bnn_toolkit.distributed import run_ranks, train_results
    from bnn_toolkit.training import train
    from bnn_toolkit.rules.core import rule_names
    small = dict(model='FullyConnected', fc_widths=[16, 16], dataset='fashion-mnist', bs=32, epochs=1, limit_batches=2, seed=1)
    r0, r1 = run_ranks(train_results, 2, [dict(small, rule=r) for r in rule_names()], train)
    for a, b in zip(r0, r1):
        assert a['summary']['status'] == 'finished'
        assert all(torch.equal(a['model'][k], b['model'][k]) for k in a['model']), a['summary']

def test_scaling_benchmark_reports_both_process_counts():
    from bnn_toolkit.distributed import scaling_benchmark
    from bnn_toolkit.training import train
    rows = scaling_benchmark(train, steps=10, warmup=2, fc_widths=[64])
    assert [r['processes'] for r in rows] == [1, 2] and rows[0]['efficiency'] == 1.0
    assert all(r['steps_per_s'] > 0 for r in rows) and 0 < rows[1]['efficiency'] < 2, rows
    assert rows[1]['efficiency'] == pytest.approx(rows[1]['steps_per_s'] / rows[0]['steps_per_s'] / 2)
