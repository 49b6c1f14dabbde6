#!/usr/bin/env bash
# The README's set-up on a bare Debian 12: a `debootstrap --variant=minbase bookworm` system in a
# chroot, this checkout copied in with `git archive HEAD`, then `./setup.sh build`, a short
# `mmx train` and `mmx explore`. It proves that setup.sh installs everything the build needs,
# which the CI machine itself cannot (it keeps whatever was ever installed on it).
#
#   .ci/fresh-machine.sh            as root inside the chroot (CI)
#   .ci/fresh-machine.sh --user     as an ordinary user with sudo inside the chroot
#
# Needs root on the host. Only debootstrap's download of the base system is cached between runs
# (MMX_DEBOOTSTRAP_CACHE, a tarball of .debs); every package setup.sh installs is fetched anew.
set -euo pipefail
cd "$(dirname "$0")/.."

as_user=0
case "${1:-}" in
  "") ;;
  --user) as_user=1 ;;
  *) echo "usage: .ci/fresh-machine.sh [--user]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: needs root (debootstrap, chroot, mount)" >&2; exit 2; }

MIRROR="${MMX_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${MMX_DEBOOTSTRAP_CACHE:-/var/cache/multimax-ci/bookworm-minbase.tar.gz}"
root="$(mktemp -d /var/tmp/mmx-fresh.XXXXXX)"
chmod 755 "$root"  # the chroot's / : mktemp makes it 0700, which locks out every other user
log="$root.log"
start=$SECONDS

# Unmount (innermost first) and delete the chroot whatever happened; a run that fails halfway
# leaves neither mounts nor a half-built system behind.
cleanup() {
  local status=$?
  for m in dev/pts dev proc; do
    mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
  done
  # Never delete through a mount that is still there.
  if ! grep -q " $root/" /proc/mounts; then rm -rf "$root"; fi
  if [ $status -ne 0 ]; then
    echo "fresh-machine: FAILED after $((SECONDS - start)) s; full log: $log" >&2
    local first
    first="$(grep -m1 -E '(^E: |CMake Error|error:|^FAILED|command not found|No such file)' "$log" \
      || true)"
    [ -n "$first" ] && echo "fresh-machine: first error: $first" >&2
    echo "--- last lines of the log ---" >&2
    tail -n 25 "$log" >&2
  else
    rm -f "$log"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo "fresh-machine: [$((SECONDS - start)) s] $*"; }

if ! command -v debootstrap >/dev/null; then
  step "installing debootstrap"
  apt-get update -qq >>"$log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >>"$log" 2>&1
fi

if [ ! -s "$CACHE" ]; then
  step "downloading the minbase system into $CACHE"
  mkdir -p "$(dirname "$CACHE")"
  tmp_cache="$(mktemp -d /var/tmp/mmx-debootstrap.XXXXXX)"
  if debootstrap --variant=minbase --make-tarball="$CACHE.part" bookworm "$tmp_cache" "$MIRROR" \
       >>"$log" 2>&1; then
    mv "$CACHE.part" "$CACHE"
  fi
  rm -rf "$tmp_cache" "$CACHE.part"
  [ -s "$CACHE" ] || { echo "debootstrap --make-tarball failed" >>"$log"; exit 1; }
fi

step "installing a bare Debian 12 (minbase) in $root"
debootstrap --variant=minbase --unpack-tarball="$CACHE" bookworm "$root" "$MIRROR" >>"$log" 2>&1

# The same suites as a stock Debian 12 install: the release, its updates and security.
cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

mkdir -p "$root/src/multimax"
git archive HEAD | tar -x -C "$root/src/multimax"

# What a newcomer types, README order: set-up and build, then the short jobs.
run_in_chroot() {
  if [ $as_user -eq 1 ]; then
    chroot "$root" runuser -u newcomer -- env HOME=/home/newcomer bash -ec "cd /src/multimax && $1"
  else
    chroot "$root" env HOME=/root bash -ec "cd /src/multimax && $1"
  fi
}
if [ $as_user -eq 1 ]; then
  step "adding a user with sudo"
  chroot "$root" bash -ec 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends sudo >/dev/null
    useradd -m newcomer && echo "newcomer ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/newcomer
    chown -R newcomer: /src/multimax' >>"$log" 2>&1
fi

step "./setup.sh build"
run_in_chroot "./setup.sh build" >>"$log" 2>&1
step "mmx train (20 steps)"
run_in_chroot "build/cli/mmx train --steps 20 --eval-interval 10 --batch 4 --seq 32 \
  --layers 1 --d-model 32 --heads 2 --attn multimax --out /tmp/fresh-run" >>"$log" 2>&1
run_in_chroot "test -s /tmp/fresh-run/model.safetensors && test -s /tmp/fresh-run/log.jsonl" \
  >>"$log" 2>&1
step "mmx explore"
run_in_chroot "build/cli/mmx explore --values 1,0.5,-1,2" >>"$log" 2>&1
step "passed"
