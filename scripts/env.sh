# shellcheck shell=bash
# Sourced in two ways:
#
# - by the project's own commands (the scripts in this directory, the
#   Makefile, or anyone with NSFD_ENV=project): every tool's state under
#   .cache/, the project's empty ansible.cfg and only this checkout's
#   collection path, so runs are reproducible and nothing lands in
#   ~/.ansible or ~/.cache;
# - by a person (`. scripts/env.sh` in a shell, as the README says): only the
#   project's tools first on PATH and this checkout's collection path added
#   after the collections path already in force. Their own ansible.cfg
#   (ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg), ANSIBLE_HOME and other
#   settings stay as they are. NSFD_ENV=user forces this way.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO
# NSFD_VENV: the virtualenv of one ansible-core of the support matrix (noxfile.py)
export PATH="${NSFD_VENV:-$REPO/.cache/venv}/bin:$PATH"

nsfd_env_mode=${NSFD_ENV:-}
if [ -z "$nsfd_env_mode" ]; then
  nsfd_env_mode=user
  # sourced by a file of scripts/ (BASH_SOURCE[1] is the file that sources this one)
  if [ -n "${BASH_SOURCE[1]:-}" ] \
      && [ "$(cd "$(dirname "${BASH_SOURCE[1]}")" 2>/dev/null && pwd)" = "$REPO/scripts" ]; then
    nsfd_env_mode=project
  fi
fi

if [ "$nsfd_env_mode" = project ]; then
  export ANSIBLE_HOME="$REPO/.cache/ansible"
  export ANSIBLE_COLLECTIONS_PATH="$REPO/.cache/collections"
  export ANSIBLE_LOCAL_TEMP="$REPO/.cache/ansible/tmp"
  export ANSIBLE_REMOTE_TEMP="$REPO/.cache/ansible/remote-tmp"
  export ANSIBLE_NOCOLOR=1
  # logs a person reads: no colour codes from molecule, rich, pytest or nox
  export NO_COLOR=1 PY_COLORS=0
  export ANSIBLE_RETRY_FILES_ENABLED=0
  export ANSIBLE_CONFIG="$REPO/.cache/ansible/ansible.cfg"
  export XDG_CACHE_HOME="$REPO/.cache/xdg"
  export PIP_CACHE_DIR="$REPO/.cache/pip"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  # no pip chatter in logs (ansible-test installs its own venvs): errors only
  export PIP_QUIET=2 PIP_PROGRESS_BAR=off
else
  # This checkout's collection after the collections path in force: the
  # variable when it is set, else what the configuration seen from here says
  # (ansible.cfg's collections_path, or Ansible's default).
  nsfd_collections=$REPO/.cache/collections
  if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ] && command -v ansible-config >/dev/null 2>&1; then
    ANSIBLE_COLLECTIONS_PATH=$(ansible-config dump --format json 2>/dev/null | python3 -c '
import json, sys
try:
    found = [entry["value"] for entry in json.load(sys.stdin) if entry.get("name") == "COLLECTIONS_PATHS"]
except ValueError:
    found = []
print(":".join(found[0]) if found and isinstance(found[0], list) else "")' 2>/dev/null || true)
  fi
  case ":${ANSIBLE_COLLECTIONS_PATH:-}:" in
    *":$nsfd_collections:"*) ;;
    ::) ANSIBLE_COLLECTIONS_PATH="$HOME/.ansible/collections:/usr/share/ansible/collections:$nsfd_collections" ;;
    *) ANSIBLE_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH:$nsfd_collections" ;;
  esac
  export ANSIBLE_COLLECTIONS_PATH
  unset nsfd_collections
fi
unset nsfd_env_mode
