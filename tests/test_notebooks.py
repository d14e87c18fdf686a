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

def _registries()->list[dict]:
    "The package's registries. A notebook that defines a rule or model registers its own class under the package's name"
    from bnn_toolkit.rules.core import RULES, rule_names
    from bnn_toolkit.models import MODELS
    from bnn_toolkit.data import DATASETS
    rule_names()                       # import every built-in rule first, so the snapshot holds the package's classes
    return [RULES, MODELS, DATASETS]

@pytest.fixture(autouse=True)
def isolated_registries():
    "Restore the registries after each notebook: notebooks run in one process, and a later one must get the package's classes"
    saved = [(r, dict(r)) for r in _registries()]
    yield
    for r, d in saved: r.clear(); r.update(d)

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook(nb, monkeypatch):
    monkeypatch.setenv('WANDB_MODE', os.environ.get('WANDB_MODE', 'disabled'))
    ok, secs = _run_nb(nb, skip_flags=[f for f in SKIP if f not in FORCE], force_flags=FORCE, basepath=cfg.config_path)
    assert ok, f'{nb.name} failed (its error is printed above)'
