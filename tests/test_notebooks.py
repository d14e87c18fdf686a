"Run every notebook in nbs/ as one pytest test (nbdev's runner), so that pytest reports `N passed`."
import os, pytest
from pathlib import Path
from nbdev.config import get_config
from nbdev.test import test_nb as _run_nb     # aliased: pytest would collect a name starting with test_

cfg = get_config()
NBS = sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
             if not any(s.startswith(('_', '.')) for s in p.relative_to(cfg.nbs_path).parts))
SKIP = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
FORCE = os.environ.get('NBDEV_FLAGS', '').split()     # e.g. NBDEV_FLAGS="slow gpu" on a GPU machine

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook(nb, monkeypatch):
    monkeypatch.setenv('WANDB_MODE', os.environ.get('WANDB_MODE', 'disabled'))
    ok, secs = _run_nb(nb, skip_flags=[f for f in SKIP if f not in FORCE], force_flags=FORCE, basepath=cfg.config_path)
    assert ok, f'{nb.name} failed (its error is printed above)'
