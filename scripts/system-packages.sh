#!/usr/bin/env bash
# Installs the Debian packages LDN Diary needs, when they are missing.
#   scripts/system-packages.sh run    what serving the app needs (WeasyPrint's Pango, fonts)
#   scripts/system-packages.sh test   plus Chromium for browser tests, poppler for PDF checks
# Both add python3-venv when the Python in use cannot make a virtual environment.
set -euo pipefail

RUN_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
TEST_PACKAGES=(chromium poppler-utils)

wanted=("${RUN_PACKAGES[@]}")
if [[ "${1:-run}" == "test" ]]; then
  wanted+=("${TEST_PACKAGES[@]}")
fi
# Debian's own Python makes virtual environments only with python3-venv.
if ! "${PYTHON:-python3}" -c "import ensurepip, venv" 2>/dev/null; then
  wanted+=(python3-venv)
fi

missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing system packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  SUDO=""
elif command -v sudo >/dev/null; then
  SUDO="sudo"
else
  echo "Please install as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
