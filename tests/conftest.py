import os
# The tests run many tiny tensor operations: one thread avoids OpenMP spin-waiting on a small (or shared) machine.
os.environ.setdefault('OMP_NUM_THREADS', '1')
# Plotly picks its renderer when first imported: here it may be imported outside IPython (a plain test) before the
# notebooks run, so say which one, as Jupyter would pick it: figures are kept as data in the executed notebooks (docs).
os.environ.setdefault('PLOTLY_RENDERER', 'plotly_mimetype+notebook')

def pytest_collection_modifyitems(session, config, items):
    "The docs tests last: they build the site from the notebooks that tests/test_notebooks.py executed in this same run"
    items.sort(key=lambda item: item.nodeid.startswith('tests/test_docs.py'))
