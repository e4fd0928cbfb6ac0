# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
# the project's own settings (scripts/env.sh): state under .cache/, its own ansible.cfg
ENV := NSFD_ENV=project; . scripts/env.sh &&

.PHONY: bootstrap bootstrap-base test unit sanity build docs demo bench clean

# everything the tests use, with the stock Debian root of the Debian-host and
# booted-host tests (about 250 MB, built once)
bootstrap:
	scripts/bootstrap

# the tools and the collection path without that root: what the demo, the
# docs, the build and sanity use
bootstrap-base:
	scripts/bootstrap --without-debian-root

test: bootstrap
	scripts/run-tests

unit: bootstrap
	$(ENV) python -m pytest tests

sanity: bootstrap-base
	scripts/sanity

build: bootstrap-base
	$(ENV) ansible-galaxy collection build --force --output-path .cache/dist

demo: bootstrap-base
	scripts/demo

docs: bootstrap-base
	scripts/docs

bench: bootstrap
	scripts/bench

clean:
	rm -rf .cache tests/output
