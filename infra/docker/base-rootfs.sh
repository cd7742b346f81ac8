#!/usr/bin/env bash
# Build the local stand-in base image (Debian bookworm + Python 3.11) when image registries are
# unreachable: a debootstrap minbase root file system from the Debian mirror apt already uses,
# imported with `docker import`. The tarball is cached, so later runs only import it (seconds).
# Usage: infra/docker/base-rootfs.sh [IMAGE_TAG]   (DOCKER_HOST must point at a running dockerd)
set -euo pipefail

tag="${1:-local/debian-py:bookworm}"
cache_dir="${LINLI_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/linli}"
tarball="$cache_dir/debian-py-bookworm.tar"

if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi

mirror_in_use() {
  # The first Debian URI apt is configured with (deb822 or one-line format).
  local uri
  uri=$(grep -hoE '^URIs:\s*\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hoE '^deb\s+\S+' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install -y debootstrap" >&2; exit 1; }
  mkdir -p "$cache_dir"
  rootfs=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase \
    --include=python3,python3-venv,python-is-python3,ca-certificates,procps \
    bookworm "$rootfs" "$(mirror_in_use)" >"$cache_dir/debootstrap.log" 2>&1 \
    || { echo "debootstrap failed; see $cache_dir/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
fi

docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' "$tarball" "$tag" >/dev/null
