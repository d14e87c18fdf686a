"""The docs site (`_docs/`, built by tools/build_docs.py) in headless Chromium, offline: a notebook page draws its plotly
figures and its formulas, and the API page lists `train`. Screenshot: $BNN_SCREENSHOT_DIR/docs.png (default tests/screenshots/).

When the notebook tests ran in this same pytest run with `BNN_EXECUTED_NBS=DIR` (as `make test` runs them), the site is
built first, from those executed notebooks (these tests run last: tests/conftest.py); otherwise the site already in
`_docs/` is tested (`make docs` builds it). Skipped when the site, Chromium or playwright is missing, except under
CI=true, where that fails."""
import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get('BNN_DOCS_DIR', ROOT / '_docs'))
CHROMIUM = os.environ.get('BNN_CHROMIUM', '/usr/bin/chromium')
FIGURE_PAGE = 'nbs/51_explorer.html'     # runs compared: curves and alignment figures, drawn by plotly
MATH_PAGE = 'nbs/12_dfa.html'            # the DFA update in LaTeX

def _missing()->str|None:
    "Why the docs test cannot run here, or None"
    if not (SITE / 'index.html').exists(): return f'no docs site in {SITE} (make docs)'
    if not Path(CHROMIUM).exists(): return f'{CHROMIUM} not found (apt-get install chromium)'
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return 'the playwright Python package is not installed (pip install playwright)'
    return None

# each figure on the page: drawn (an svg.main-svg) with visible trace paths
FIGURES_JS = """() => [...document.querySelectorAll('.plotly-graph-div')].map(d => ({
    svg: d.querySelectorAll('svg.main-svg').length,
    paths: [...d.querySelectorAll('.scatterlayer .trace path, .barlayer .trace path, .heatmaplayer image')]
             .filter(p => p.getBoundingClientRect().width > 0).length}))"""

def _build_from_this_run():
    "Build the site from the notebooks this pytest run executed, if it executed them (BNN_EXECUTED_NBS)"
    executed = os.environ.get('BNN_EXECUTED_NBS')
    if not executed or not any(Path(executed).glob('*.ipynb')): return
    import subprocess, sys
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'build_docs.py'), '--executed', executed, '--out', str(SITE)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, f'the docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'

@pytest.fixture(scope='module')
def browser_page():
    _build_from_this_run()
    why = _missing()
    if why is not None:
        if os.environ.get('CI') == 'true': pytest.fail(f'docs test cannot run under CI=true: {why}')
        pytest.skip(why)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        outside, errors = [], []
        # offline, as CI and the test machine are: any request that leaves the site is refused (and recorded)
        page.route('**/*', lambda route: route.continue_() if route.request.url.startswith('file://')
                   else (outside.append(route.request.url), route.abort()))
        page.on('pageerror', lambda e: errors.append(str(e)))
        try: yield page, outside, errors
        finally: browser.close()

def test_figures_render_offline(browser_page):
    page, outside, errors = browser_page
    shots = Path(os.environ.get('BNN_SCREENSHOT_DIR') or ROOT / 'tests' / 'screenshots')
    shots.mkdir(parents=True, exist_ok=True)
    page.goto((SITE / FIGURE_PAGE).as_uri())
    page.wait_for_function("() => document.querySelectorAll('.plotly-graph-div svg.main-svg').length > 0", timeout=30_000)
    figures = page.evaluate(FIGURES_JS)
    first = page.locator('.plotly-graph-div').first
    first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / 'docs.png'))
    assert len(figures) >= 2 and all(f['svg'] and f['paths'] for f in figures), figures
    assert not errors, errors
    assert not outside, f'the page asked the network for {outside}'

def test_math_renders_offline(browser_page):
    page, outside, errors = browser_page
    page.goto((SITE / MATH_PAGE).as_uri())
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=30_000)
    assert not outside, f'the page asked the network for {outside}'

def test_api_page_lists_train(browser_page):
    page, *_ = browser_page
    page.goto((SITE / 'api.html').as_uri())
    train = page.locator('[id="bnn_toolkit.training.train"]')
    assert train.count() == 1 and 'train(' in train.inner_text()
    # its parameters' comments (docments) are part of the entry
    assert 'config' in page.locator('[id="bnn_toolkit.training.train"] + dd').inner_text()

def _build_docs():
    "tools/build_docs.py as a module (tools/ is not a package)"
    import importlib.util
    spec = importlib.util.spec_from_file_location('build_docs', ROOT / 'tools' / 'build_docs.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_staged_notebook_is_clean():
    "What a staged page keeps of an executed notebook: no widget state or view, no embedded plotly.js, nbdev's hidden cells gone"
    bd = _build_docs()
    view = {'output_type': 'display_data', 'metadata': {}, 'data': {bd.WIDGET_VIEW: {'model_id': 'x'}, 'text/plain': ['Explorer()']}}
    loader = {'output_type': 'display_data', 'metadata': {}, 'data': {'text/html': '<script>window.PlotlyConfig = {}; /* plotly.js */</script>'}}
    fig = {'output_type': 'display_data', 'metadata': {}, 'data': {bd.PLOTLY_JSON: {'data': [{'type': 'scatter', 'y': [1, 3]}], 'layout': {}}}}
    code = lambda src, outs=(): {'cell_type': 'code', 'metadata': {}, 'source': src, 'outputs': list(outs), 'execution_count': None}
    nb = {'nbformat': 4, 'nbformat_minor': 5, 'metadata': {'widgets': {bd.WIDGET_STATE: {'state': {}}}},
          'cells': [code('#| default_exp explorer'), code('#| export\nimport plotly'),
                    {'cell_type': 'markdown', 'metadata': {}, 'source': '# Explorer\n> runs compared'},
                    code('#| hide\nfrom fastcore.test import *'), code('#| echo: false\nfig', [loader, fig]), code('Explorer()', [view])]}
    out = bd.clean_notebook(nb)
    assert 'widgets' not in out['metadata']
    assert [c['source'] for c in out['cells']] == ['# Explorer\n> runs compared', 'import plotly', 'fig', 'Explorer()']
    figure = out['cells'][2]
    assert figure['metadata']['tags'] == ['remove-input'] and len(figure['outputs']) == 1
    html = figure['outputs'][0]['data']['text/html']
    assert list(figure['outputs'][0]['data']) == ['text/html'] and 'Plotly.newPlot' in html and '<script src' not in html
    assert out['cells'][3]['outputs'][0]['data'] == {'text/plain': ['Explorer()']}
