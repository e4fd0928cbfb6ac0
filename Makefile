# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
# the project's own settings (scripts/env.sh): state under .cache/, its own ansible.cfg
ENV := NSFD_ENV=project; . scripts/env.sh &&

.PHONY: bootstrap test unit sanity build docs demo bench clean

bootstrap:
	scripts/bootstrap

test: bootstrap
	scripts/run-tests

unit: bootstrap
	$(ENV) python -m pytest tests

sanity: bootstrap
	scripts/sanity

build: bootstrap
	$(ENV) ansible-galaxy collection build --force --output-path .cache/dist

demo: bootstrap
	scripts/demo

docs: bootstrap
	scripts/docs

bench: bootstrap
	scripts/bench

clean:
	rm -rf .cache tests/output
