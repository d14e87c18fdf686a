"The installed console command, as a user runs it."
import json, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent / 'bnn-train'

def run(*args, **kw):
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=600, **kw)

def test_console_command_trains_on_fashion_mnist(tmp_path):
    out = tmp_path / 'run'
    r = run('--fashion-mnist', '--model', 'FullyConnected', '--binary-act', '--binary-weights', '--fc-batchnorm',
            '--bs', '128', '--epochs', '1', '--limit-batches', '40', '--seed', '0', '--no-wandb', '--out', str(out))
    assert r.returncode == 0, r.stderr
    s = json.loads((out / 'summary.json').read_text())
    assert s['status'] == 'finished' and 0.2 < s['final_accuracy'] <= 1, s
    assert 'validation accuracy' in r.stdout

@pytest.mark.parametrize('args, msg', [
    (['--method', 'nope'], 'valid methods: bp'),
    (['--model', 'ResNet50'], 'valid models: FullyConnected'),
    (['--dataset', 'imagenet21k'], 'valid datasets'),
    (['--mnist', '--cifar10'], 'choose one'),
    (['--unsat'], 'add --binary-act'),
    (['--opt', 'Adamm'], 'valid optimizers'),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, msg):
    out = tmp_path / 'run'
    r = run(*args, '--no-wandb', '--out', str(out))
    assert r.returncode == 2
    assert r.stderr.count('\n') == 1 and msg in r.stderr, r.stderr
    assert not out.exists()

def test_missing_dataset_says_where_it_looked(tmp_path):
    r = run('--mnist', '--data-root', str(tmp_path / 'nowhere'), '--no-download', '--no-wandb', '--out', str(tmp_path / 'run'),
            env={'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path), 'BNN_DATASETS_CONFIG': str(tmp_path / 'none.yaml')},
            cwd=tmp_path)
    # several lines: every place looked in, the expected layout, how to provide it
    assert r.returncode == 2 and r.stderr.startswith("bnn-train: error: Dataset 'mnist' not found"), r.stderr
    assert 'nowhere' in r.stderr and 'BNN_DATA_MNIST=DIR' in r.stderr and '--data-root DIR' in r.stderr
    assert not (tmp_path / 'run').exists()
