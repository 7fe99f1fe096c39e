( # Memory check for Linux: the memory cgroup this shell runs in, its limit, peak and OOM kills.
  c=/sys/fs/cgroup
  g(){ awk -v b="$1" 'BEGIN { if (b == "") print "not recorded"
    else if (b == "max" || b >= 2^60) print "no limit"
    else if (b >= 2^30) printf "%.1f GiB\n", b / 2^30; else printf "%.0f MiB\n", b / 2^20 }'; }
  s(){ awk -v k="$1" '$1 == k { print $2 }' "$2" 2>/dev/null; }
  v1=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/$$/cgroup 2>/dev/null)
  if [ -n "$v1" ] && [ -e $c/memory/memory.limit_in_bytes ]; then
    d=$c/memory${v1%/}; [ -e "$d/memory.limit_in_bytes" ] || d=$c/memory
    l=$(cat "$d/memory.limit_in_bytes"); h=$(s hierarchical_memory_limit "$d/memory.stat")
    [ -n "$h" ] && [ "$h" -lt "$l" ] && l=$h  # a parent's limit may be the lower one
    u=$(cat "$d/memory.usage_in_bytes"); p=$(cat "$d/memory.max_usage_in_bytes")
    a=$(s rss "$d/memory.stat"); f=$(s cache "$d/memory.stat"); m=$(s shmem "$d/memory.stat")
    k=$(s oom_kill "$d/memory.oom_control"); echo "cgroup v1: $d"
  elif [ -e $c/cgroup.controllers ]; then
    d=$c$(awk -F: '$1 == "0" { print $3 }' /proc/$$/cgroup); d=${d%/}
    [ -e "$d/memory.max" ] || d=$c
    l=max; e=$d
    while [ -e "$e/memory.max" ]; do  # a parent's limit may be the lower one
      x=$(cat "$e/memory.max")
      [ "$x" != max ] && { [ "$l" = max ] || [ "$x" -lt "$l" ]; } && l=$x
      [ "$e" = $c ] && break; e=${e%/*}
    done
    u=$(cat "$d/memory.current"); p=$(cat "$d/memory.peak" 2>/dev/null)
    a=$(s anon "$d/memory.stat"); f=$(s file "$d/memory.stat"); m=$(s shmem "$d/memory.stat")
    k=$(s oom_kill "$d/memory.events"); echo "cgroup v2: $d"
  fi
  if [ ! -e /proc/$$/cgroup ]; then
    echo "No /proc here (macOS?): use the notebook-cell form of this check."
  elif [ -z "$d" ]; then
    t=$(($(s MemTotal: /proc/meminfo) * 1024))
    echo "No memory cgroup found, so no limit could be read; the machine has $(g $t)."
  else
    echo "limit:      $(g "$l")"
    echo "in use now: $(g "$u") (programs $(g "$a"), file cache $(g "$f")," \
      "of which shared memory $(g "$m"))"
    echo "peak:       $(g "$p")$(awk -v p="$p" -v l="$l" 'BEGIN { if (p != "" && l != "max" &&
      l < 2^60) printf ", %.0f%% of the limit", 100 * p / l }')"
    echo "OOM kills:  ${k:-not counted}" \
      "(only a rise across the next crash says it ran out of memory)"
  fi
)
