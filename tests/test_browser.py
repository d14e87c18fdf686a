"""The launcher notebook in a real JupyterLab, in headless Chromium: run all cells, see the widgets and live plotly curves
render mid-run, take a screenshot ($BNN_SCREENSHOT_DIR/launcher.png, default tests/screenshots/).

Needs Debian's chromium (/usr/bin/chromium) and the playwright Python package (its driver only: never `playwright install`).
Skipped when either is missing, except under CI=true, where it must run."""
import json, os, re, secrets, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = 'nbs/50_launcher.ipynb'
CHROMIUM = os.environ.get('BNN_CHROMIUM', '/usr/bin/chromium')

def _missing()->str|None:
    "Why the browser test cannot run here, or None"
    if not Path(CHROMIUM).exists(): return f'{CHROMIUM} not found (apt-get install chromium)'
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return 'the playwright Python package is not installed (pip install playwright)'
    return None

def _copy_notebook(src:Path, dst:Path):
    "Copy a notebook without its `nbdev_export()` cell (as nbdev_test skips it: there is no project to export here)"
    nb = json.loads(src.read_text())
    nb['cells'] = [c for c in nb['cells'] if 'nbdev_export(' not in ''.join(c['source'])]
    dst.write_text(json.dumps(nb))

def _free_port()->int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _wait_for_server(url:str, proc:subprocess.Popen, log:Path, timeout:float=60):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None: raise RuntimeError(f'JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.3)
    raise TimeoutError(f'JupyterLab did not answer {url} within {timeout} s:\n{log.read_text()[-3000:]}')

def _start_lab(root:Path, port:int, token:str, log:Path)->subprocess.Popen:
    "JupyterLab on 127.0.0.1:`port` serving `root`, with its own config/data/runtime dirs and no network calls"
    settings = root / '.jupyter/lab/user-settings'
    news = settings / '@jupyterlab/apputils-extension/notification.jupyterlab-settings'
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))   # no "Jupyter news?" toast
    # render every cell, also those scrolled out of view (JupyterLab 4 defers them by default)
    (settings / '@jupyterlab/notebook-extension').mkdir(parents=True, exist_ok=True)
    (settings / '@jupyterlab/notebook-extension/tracker.jupyterlab-settings').write_text(json.dumps({'windowingMode': 'none'}))
    (root / 'tmp').mkdir()
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'WANDB_MODE': 'disabled', 'JUPYTERLAB_SETTINGS_DIR': str(settings),
           'TMPDIR': str(root / 'tmp'),   # the notebook's temporary run store goes there too
           'JUPYTER_CONFIG_DIR': str(root / '.jupyter/config'), 'JUPYTER_RUNTIME_DIR': str(root / '.jupyter/runtime'),
           'IPYTHONDIR': str(root / '.jupyter/ipython')}
    cmd = [sys.executable, '-m', 'jupyterlab', '--allow-root', '--no-browser', '--ServerApp.open_browser=False',
           '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}', '--ServerApp.port_retries=0',
           f'--ServerApp.root_dir={root}', f'--IdentityProvider.token={token}', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate', '--LabApp.expose_app_in_browser=True',
           f'--LabApp.workspaces_dir={root / ".jupyter/workspaces"}']
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=log.open('w'), stderr=subprocess.STDOUT, start_new_session=True)

def _stop_lab(proc:subprocess.Popen):
    "Stop the server and its kernels (its own process group)"
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(15)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(5)

# the launcher's state in the page: its status line, the accuracy figure's batch points, drawn trace paths, its Run button
STATE_JS = """() => {
  const plots = [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot')];
  const status = [...document.querySelectorAll('.jp-OutputArea .widget-html-content')]
                   .map(e => e.textContent).find(t => /^(ready|starting|running|stopping|finished|stopped|failed)/.test(t)) || '';
  const acc = plots[0] && plots[0].data && plots[0].data[0];
  return {plots: plots.length, points: acc && acc.x ? acc.x.length : 0, status: status,
          paths: plots.length ? plots[0].querySelectorAll('.scatterlayer .trace path').length : 0,
          runButton: [...document.querySelectorAll('.jp-OutputArea button.widget-button')].some(b => b.textContent.trim() === 'Run')};
}"""

def test_launcher_notebook_in_jupyterlab(tmp_path):
    why = _missing()
    if why is not None:
        if os.environ.get('CI') == 'true': pytest.fail(f'browser test cannot run under CI=true: {why}')
        pytest.skip(why)
    from playwright.sync_api import sync_playwright
    shots = Path(os.environ.get('BNN_SCREENSHOT_DIR') or ROOT / 'tests' / 'screenshots')
    shots.mkdir(parents=True, exist_ok=True)
    (tmp_path / 'nbs').mkdir()
    _copy_notebook(ROOT / NOTEBOOK, tmp_path / NOTEBOOK)
    port, token, log = _free_port(), secrets.token_hex(16), tmp_path / 'jupyterlab.log'
    proc = _start_lab(tmp_path, port, token, log)
    try:
        _wait_for_server(f'http://127.0.0.1:{port}/api/status?token={token}', proc, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
            try:
                page = browser.new_page(viewport={'width': 1600, 'height': 1150})
                page.goto(f'http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={token}')
                # the notebook is open and its kernel is ready
                page.wait_for_function("""() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
                    return k && k.status === 'idle'; }""", timeout=60_000)
                page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }")
                # run every cell; the promise resolves (true) once all have run without an error
                ok = page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                errors = page.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"], '
                                      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
                assert ok is True and errors.count() == 0, errors.first.inner_text() if errors.count() else 'run-all failed'
                # the widgets rendered: the launcher shows the notebook's own run, finished, with its curves
                run = page.locator('.jp-OutputArea button.widget-button', has_text='Run').first
                run.wait_for(timeout=90_000)
                page.wait_for_function(f"() => {{ const s = ({STATE_JS})(); return s.plots >= 3 && s.points == 32; }}", timeout=90_000)
                run.evaluate("b => b.closest('.jp-Cell').scrollIntoView()")
                # type 8 epochs (a longer run, to look at it in the middle) and click Run: it trains in the background
                epochs = page.locator('.widget-inline-hbox', has=page.locator('label', has_text=re.compile(r'^epochs$'))).locator('input')
                epochs.fill('8'); epochs.press('Enter')
                run.click()
                page.wait_for_function(f"() => {{ const s = ({STATE_JS})(); return s.status.startsWith('running') && s.points >= 18 && s.points < 60 && s.paths > 0; }}",
                                       timeout=60_000, polling=50)
                mid = page.evaluate(STATE_JS)
                page.screenshot(path=str(shots / 'launcher.png'))
                assert mid['runButton'] and mid['plots'] >= 3 and mid['paths'] > 0, mid
                assert mid['status'].startswith('running'), f'the run ended before the screenshot: {mid}'
                # it ends; the figures hold the whole run (8 epochs x 40 batches, a point every 5 steps), the table both runs
                page.wait_for_function(f"() => ({STATE_JS})().status.startsWith('finished')", timeout=60_000, polling=200)
                end = page.evaluate(STATE_JS)
                assert end['points'] == 64 and end['points'] > mid['points'], (mid, end)
                assert page.locator('.jp-OutputArea table.bnn-runs td', has_text='finished').count() == 2
            except Exception:
                page.screenshot(path=str(shots / 'launcher-failure.png'))   # what the page showed when it failed
                print(log.read_text()[-3000:])
                raise
            finally:
                browser.close()
    finally:
        _stop_lab(proc)
