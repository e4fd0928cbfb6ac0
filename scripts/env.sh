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
export ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_CONFIG="$REPO/.cache/ansible/ansible.cfg"
export XDG_CACHE_HOME="$REPO/.cache/xdg"
export PIP_CACHE_DIR="$REPO/.cache/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PATH="$REPO/.cache/venv/bin:$PATH"
