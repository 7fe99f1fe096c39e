"""Peak memory of one step, and how chunks or a generator lower it"""

import tracemalloc


def all_at_once(n):
    squares = [x * x for x in range(n)]  # every square in memory together
    return sum(squares)


def in_chunks(n, size=10_000):
    total = 0
    for start in range(0, n, size):
        squares = [x * x for x in range(start, min(start + size, n))]
        total += sum(squares)
    return total


def streamed(n):
    return sum(x * x for x in range(n))  # one square at a time


def peak_of(step, n):
    """The result of step(n) and the most memory it held at any moment."""
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    result = step(n)
    _, peak = tracemalloc.get_traced_memory()
    return result, peak - before


tracemalloc.start()
for step in (all_at_once, in_chunks, streamed):
    result, peak = peak_of(step, 500_000)
    print(f"{step.__name__:<12} sum {result:,}  peak {peak / 2**20:5.1f} MiB")
tracemalloc.stop()
