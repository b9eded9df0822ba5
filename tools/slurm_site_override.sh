#!/usr/bin/env bash
# slurm_site_override.sh -- copy a Snakemake Slurm profile and rewrite ONLY its site values
# (slurm_partition and slurm_account under default-resources). Prints the copy's directory.
#
#   prof=$(bash tools/slurm_site_override.sh PARTITION ACCOUNT [SRC_PROFILE_DIR] [DEST_DIR])
#   snakemake --profile "$prof" ...
#
# SRC_PROFILE_DIR defaults to profiles/slurm next to this script; DEST_DIR defaults to a new
# temporary directory. Fails unless each of the two keys is found exactly once.
#
# Why not `snakemake --default-resources slurm_partition=... slurm_account=...`? A command-line
# --default-resources (like a second --profile) replaces the profile's whole `default-resources`
# block, so runtime/mem_mb (and their scaling with `attempt`) would silently be lost.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 4 ]; then
    echo "usage: $0 PARTITION ACCOUNT [SRC_PROFILE_DIR] [DEST_DIR]" >&2
    exit 2
fi
partition=$1 account=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${3:-$here/../profiles/slurm}
dest=${4:-$(mktemp -d "${TMPDIR:-/tmp}/vbpipe-slurm-profile.XXXXXX")}

for v in "$partition" "$account"; do
    [[ $v =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "$0: invalid site value '$v'" >&2; exit 2; }
done
[ -d "$src" ] || { echo "$0: no profile directory $src" >&2; exit 1; }

mkdir -p "$dest"
cp -R "$src"/. "$dest"/
cfg=$dest/config.v8+.yaml
[ -f "$cfg" ] || { echo "$0: $cfg missing" >&2; exit 1; }

for key in slurm_partition slurm_account; do
    n=$(grep -cE "^  ${key}:" "$cfg" || true)
    [ "$n" = 1 ] || { echo "$0: expected exactly one '  ${key}:' line in $cfg, found $n" >&2; exit 1; }
done
# keep the trailing comment, replace only the value (2-space indent = directly under default-resources)
sed -i -E \
    -e "s/^(  slurm_partition:[[:space:]]*)[^[:space:]#]+/\1${partition}/" \
    -e "s/^(  slurm_account:[[:space:]]*)[^[:space:]#]+/\1${account}/" \
    "$cfg"
if ! grep -qE "^  slurm_partition:[[:space:]]*${partition}([[:space:]]|$)" "$cfg" \
    || ! grep -qE "^  slurm_account:[[:space:]]*${account}([[:space:]]|$)" "$cfg"; then
    echo "$0: rewrite failed in $cfg" >&2; exit 1
fi
echo "$dest"
