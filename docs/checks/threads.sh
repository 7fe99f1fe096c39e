( # Thread check for Linux: the caps on threads and processes, and how many this user runs now.
  n(){ sed 's/^max$/no limit/; s/^unlimited$/no limit/'; }
  echo "per user (ulimit -u): $(awk '/^Max processes/ { print $3 }' /proc/$$/limits | n)"
  for d in "/sys/fs/cgroup/pids$(awk -F: '$2 ~ /(^|,)pids(,|$)/ { print $3 }' /proc/$$/cgroup)" \
           "/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' /proc/$$/cgroup)"; do
    [ -e "$d/pids.max" ] &&
      echo "cgroup $d: pids.max $(n < "$d/pids.max"), $(cat "$d/pids.current") in use"
  done
  echo "threads of $(id -un) now: $(ps -L -u "$(id -un)" --no-headers | wc -l)"
  echo "processor cores the libraries see: $(nproc)"
)
