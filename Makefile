# The two commands of the README. Both prepare .venv on first use.
# `make run ARGS=--demo` passes options to `watchfloor run`.
.PHONY: run demo test

run:
	scripts/bootstrap.sh run
	.venv/bin/watchfloor run $(ARGS)

demo:
	scripts/bootstrap.sh run
	.venv/bin/watchfloor run --demo

test:
	scripts/bootstrap.sh test
	.venv/bin/python -m pytest $(ARGS)
