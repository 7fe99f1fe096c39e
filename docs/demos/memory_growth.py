"""Watch memory grow, then find the line responsible"""

import linecache
import tracemalloc

results = []


def handle(request):
    answer = [request] * 1_000  # about 4 KB in the browser, 8 KB on a 64-bit machine
    results.append(answer)  # kept for ever: this is the leak
    return len(answer)


tracemalloc.start()
before = tracemalloc.take_snapshot()
for batch in range(1, 6):
    for request in range(200):
        handle(request)
    traced, _ = tracemalloc.get_traced_memory()
    print(f"after batch {batch}: {traced / 2**20:4.1f} MiB traced")

after = tracemalloc.take_snapshot()
tracemalloc.stop()
this_code = tracemalloc.Filter(True, handle.__code__.co_filename)
growth = after.filter_traces([this_code]).compare_to(before.filter_traces([this_code]), "lineno")
print("Biggest growth, by line:")
for stat in growth[:2]:
    line = stat.traceback[0]
    source = linecache.getline(line.filename, line.lineno).strip()
    print(f"  line {line.lineno:>2}: {stat.size_diff / 2**20:+5.2f} MiB  {source}")
