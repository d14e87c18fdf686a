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
    (['--rule', 'nope'], 'valid rules: bp'), (['--method', 'nope'], 'valid rules: bp'),
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
    assert 'bnn-train: FullyConnected' not in r.stdout    # the run is announced only once its data is there

def test_version_help_and_list_configs_answer_without_torch():
    "--help, --version and --list-configs import neither torch nor the data (they once took 9-13 s)"
    code = ("import sys, contextlib, io\nfrom bnn_toolkit.cli import main\nfor a in sys.argv[1:]:\n"
            "    with contextlib.redirect_stdout(io.StringIO()) as o, contextlib.suppress(SystemExit): main([a])\n"
            "    print(a, len(o.getvalue()))\nprint('torch' in sys.modules)")
    r = subprocess.run([sys.executable, '-c', code, '--help', '--version', '--list-configs'], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == 'False', r.stdout + r.stderr
    assert run('--version').stdout.startswith('bnn_toolkit ')
    names = run('--list-configs').stdout.split()
    assert len(names) == 102 and 'imagenette/MLPMixer-dfa-binary' in names

def test_help_shows_no_contradictory_defaults():
    h = run('--help').stdout
    assert '(default: None)' not in h and '(default: False)' not in h and 'bp, brsf' in h

def test_shipped_config_runs_from_any_folder(tmp_path):
    "A shipped configuration by name, outside the checkout; flags after it override it (here: a quick check on MNIST-size data)"
    r = run('--config-file', 'imagenette/FullyConnected-nope', cwd=tmp_path)
    assert r.returncode == 2 and 'not found' in r.stderr and '--list-configs' in r.stderr, r.stderr
    r = run('--config-file', 'imagenette/MLPMixer-dfa-binary', '--dataset', 'fashion-mnist', '--model', 'FullyConnected',
            '--epochs', '1', '--limit-batches', '2', '--no-wandb', '--no-progress', '--out', str(tmp_path / 'run'), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / 'run' / 'config.json').read_text())
    assert cfg['rule'] == 'dfa' and cfg['binary_weights'] and cfg['binary_act'], cfg

def test_device_index_without_cuda_is_an_error(tmp_path):
    import torch
    if torch.cuda.is_available(): pytest.skip('this machine has CUDA')
    r = run('--device', '1', '--no-wandb', '--out', str(tmp_path / 'run'))
    assert r.returncode == 2 and 'CUDA is not available' in r.stderr, r.stderr
    assert not (tmp_path / 'run').exists()
