#!/usr/bin/env bash
# What the browser test (tests/test_browser.py) needs besides Playwright: Chromium, and a Chinese font
# so that the zh lesson's page and plots show characters, not boxes. Installs them with apt-get when
# run as root on Debian/Ubuntu; otherwise says what to install and leaves the machine alone.
set -euo pipefail

packages=()
if [[ -n "${REPTILE_EDU_CHROMIUM:-}" ]] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || command -v google-chrome >/dev/null; then
  :
else
  packages+=(chromium)
fi
if ! { command -v fc-list >/dev/null && [[ -n "$(fc-list :lang=zh family)" ]]; }; then
  packages+=(fonts-wqy-zenhei)
fi
if [[ ${#packages[@]} -eq 0 ]]; then
  echo "browser test: Chromium and a Chinese font are already here."
  exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "browser test: please install ${packages[*]} (Debian/Ubuntu: sudo apt-get install ${packages[*]})," >&2
  echo "or point REPTILE_EDU_CHROMIUM at a Chromium or Chrome. Without Chromium the browser test is skipped." >&2
  exit 0
fi
echo "browser test: installing ${packages[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null \
  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }
# matplotlib lists the system's fonts once and caches the list: make it look again for the new font.
rm -f "${MPLCONFIGDIR:-${XDG_CACHE_HOME:-$HOME/.cache}/matplotlib}"/fontlist-*.json
