"""How big is this object?"""

import array
import sys


def deep_size(obj, seen=None):
    """Bytes used by obj and everything it holds, each object counted once."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(key, seen) + deep_size(value, seen) for key, value in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(deep_size(item, seen) for item in obj)
    return size


rows = [{"id": n, "name": f"row {n}", "scores": [n * 0.5, n * 1.5]} for n in range(10_000)]
print("10,000 small records")
print(f"  sys.getsizeof(rows) {sys.getsizeof(rows):>11,} bytes  (the list alone)")
print(f"  deep_size(rows)     {deep_size(rows):>11,} bytes  (with what it holds)")

values = [n % 256 for n in range(100_000)]
print("The same 100,000 numbers from 0 to 255")
print(f"  list                {deep_size(values):>11,} bytes")
print(f"  array.array('B')    {sys.getsizeof(array.array('B', values)):>11,} bytes")
print(f"  bytes               {sys.getsizeof(bytes(values)):>11,} bytes")
