"""Run every notebook in nbs/ as one pytest test (nbdev's runner semantics), so that pytest reports `N passed`.

With `BNN_EXECUTED_NBS=DIR` set, each notebook that passes is also written, with its outputs, to `DIR/<name>.ipynb`:
the docs build (`tools/build_docs.py --executed DIR`) renders those, so CI executes every notebook once."""
import json, os, sys, time, pytest
from pathlib import Path
from fastcore.basics import str2bool
from fastcore.foundation import working_directory
from fastcore.imports import IN_NOTEBOOK
from execnb.nbio import read_nb
from execnb.shell import CaptureShell
from nbdev.config import get_config
from nbdev.process import NBProcessor, nb_lang
from nbdev.frontmatter import FrontmatterProc

cfg = get_config()
NBS = sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
             if not any(s.startswith(('_', '.')) for s in p.relative_to(cfg.nbs_path).parts))
SKIP = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags or [])
FORCE = os.environ.get('NBDEV_FLAGS', '').split()     # e.g. NBDEV_FLAGS="slow gpu" on a GPU machine
EXECUTED = os.environ.get('BNN_EXECUTED_NBS')         # where to write the executed notebooks (docs build), if set

def _executed_nb(raw:dict, cells:list, sources:list)->dict:
    "The notebook `raw` as committed (sources, metadata) with the outputs the run stored in `cells` (nbdev's processed copies)"
    out = {**raw, 'cells': []}
    for c, src in zip(cells, sources):
        d = {k: v for k, v in c.items() if not k.endswith('_') and k not in ('source', 'outputs', 'execution_count')}
        d['source'] = src
        if c.cell_type == 'code': d.update(outputs=json.loads(json.dumps(c.get('outputs', []))), execution_count=None)
        out['cells'].append(d)
    return out

def run_notebook(fn:Path, # the notebook
                 skip_flags:list, # flags marking cells to skip
                 force_flags:list, # flags marking cells to run anyway
                 basepath=None, # path to add to sys.path
                 dest:Path|None=None, # write the executed notebook (with outputs) here, if it passes
                )->tuple[bool, float]:
    "nbdev's `test_nb` (nbdev/test.py), which also keeps the executed notebook: same skips, flags, working directory, result"
    if basepath: sys.path.insert(0, str(basepath))
    if not IN_NOTEBOOK: os.environ['IN_TEST'] = '1'
    flags = set(skip_flags or []) - set(force_flags or [])
    nb = read_nb(fn)
    cells, sources = list(nb.cells), [c.source for c in nb.cells]   # before nbdev strips directives and the title cell
    nb = NBProcessor(nb=nb, procs=FrontmatterProc, process=True).nb
    fm = getattr(nb, 'frontmatter_', {})
    if str2bool(fm.get('skip_exec', False)) or nb_lang(nb) != 'python': return True, 0

    def _no_eval(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return flags & direc.keys()

    start = time.time()
    k = CaptureShell(fn)
    try:
        with working_directory(fn.parent):
            k.run_all(nb, exc_stop=True, preproc=_no_eval)
            ok = True
    except KeyboardInterrupt: raise
    except BaseException:              # as nbdev: whatever a cell raises fails the notebook
        sys.stderr.write(k.prettytb(fname=fn) + '\n')
        ok = False
    if ok and dest is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(_executed_nb(json.loads(Path(fn).read_text()), cells, sources), indent=1))
    return ok, time.time() - start

def _registries()->list[dict]:
    "The package's registries. A notebook that defines a rule or model registers its own class under the package's name"
    from bnn_toolkit.rules.core import RULES, rule_names
    from bnn_toolkit.models import MODELS
    from bnn_toolkit.data import DATASETS
    import bnn_toolkit.autoencoders     # registers the aevgg* models
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
    dest = Path(EXECUTED) / nb.relative_to(cfg.nbs_path) if EXECUTED else None
    ok, secs = run_notebook(nb, skip_flags=[f for f in SKIP if f not in FORCE], force_flags=FORCE,
                            basepath=cfg.config_path, dest=dest)
    assert ok, f'{nb.name} failed (its error is printed above)'
