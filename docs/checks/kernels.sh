( # Jupyter kernels running now, biggest first: memory, time running, and the notebook of each.
  ps -eo pid=,rss=,etime=,args= --sort=-rss | awk '/[i]pykernel|[k]ernel-.*\.json/' |
  while read -r pid rss up args; do
    nb=$(tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | sed -n 's/^JPY_SESSION_NAME=//p')
    awk -v p="$pid" -v r="$rss" -v u="$up" -v n="${nb:-notebook not known}" \
      'BEGIN { printf "pid %-7s %7.2f GiB  up %-11s %s\n", p, r / 2^20, u, n }'
  done
)
