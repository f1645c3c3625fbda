# Sourced by the scripts that build Go tools into the cache (infra/cluster, infra/observability,
# infra/tilt): one build at a time per output folder, and progress lines with the elapsed time.
# The sourcing script sets `gobuild_name` (its name in messages) first.
gobuild_start=$(date +%s)

# A line on stderr: what is being done, and the time since the build started (cold builds take minutes).
gobuild_progress() { echo "$gobuild_name: $1 ($(( $(date +%s) - gobuild_start ))s elapsed)" >&2; }

# gobuild_lock FOLDER DONE OUTPUT: one build of FOLDER at a time. Two cold starts at once (`make up` in
# one terminal, `make test` in another) would otherwise write the same .tmp files. A second build waits
# for the first, then runs DONE (a command that succeeds once nothing is left to build) and, if so,
# prints OUTPUT and exits instead of building again. The lock is held until the calling script exits.
gobuild_lock() {
  mkdir -p "$1"
  exec 9>"$1.lock"
  if ! flock -n 9; then
    echo "$gobuild_name: another build of $(basename "$1") is running; waiting for it to finish" >&2
    flock 9
    if $2; then echo "$3"; exit 0; fi
  fi
}

gobuild_need_go() {
  command -v go >/dev/null || { echo "$gobuild_name: Go is needed to build $1" >&2; exit 1; }
}
