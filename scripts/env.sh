# shellcheck shell=bash
# Sourced by the scripts and the Makefile: keep every tool's state under .cache/
# so runs are reproducible and nothing lands in ~/.ansible or ~/.cache.
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO
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
# NSFD_VENV: the virtualenv of one ansible-core of the support matrix (noxfile.py)
export PATH="${NSFD_VENV:-$REPO/.cache/venv}/bin:$PATH"
