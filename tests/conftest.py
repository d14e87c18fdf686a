import os
# The tests run many tiny tensor operations: one thread avoids OpenMP spin-waiting on a small (or shared) machine.
os.environ.setdefault('OMP_NUM_THREADS', '1')
