#!/usr/bin/env bash
# Install the Debian packages the build and the tests need: a C compiler for the compiled
# noise kernel, and for the preview tests a virtual X server, a way to drive it, and fonts
# for the window's trackbar labels. Idempotent: when everything is present it only
# checks and returns; otherwise it runs apt-get update once and installs what is missing.
# Needs root (as in CI); `make test` calls it only when run as root.
set -euo pipefail

missing=()
need() { # need COMMAND-OR-PATH PACKAGE
    if [[ "$1" == /* ]]; then
        [[ -e "$1" ]] || missing+=("$2")
    else
        command -v "$1" >/dev/null 2>&1 || missing+=("$2")
    fi
}

need gcc gcc
python_include=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null || true)
[[ -n "$python_include" && -e "$python_include/Python.h" ]] || missing+=(python3-dev)
need Xvfb xvfb
need xdotool xdotool
need /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf fonts-dejavu-core

if ((${#missing[@]} == 0)); then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "install-system-deps: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
