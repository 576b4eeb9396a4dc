# Sourced by scripts/serve, scripts/test and scripts/bench: make sure .venv exists.
# On a fresh Debian, `python3 -m venv` needs the python3-venv package; as root we install it.
PYTHON=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -c "import ensurepip, venv" 2>/dev/null; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing Debian's python3-venv" >&2
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "python3 -m venv is not available: install Debian's python3-venv (as root)" >&2
      exit 1
    fi
  fi
  "$PYTHON" -m venv .venv
fi
